/**
 * The command's log: one line per entry on standard error,
 * `LEVEL message key=value …`, values quoted when they hold spaces.
 *
 * @internal
 * @module
 */
import type { Writable } from "node:stream";
import type { Logger } from "../detect/signature.js";
import { UsageError } from "./errors.js";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Parses `--log-level`. @internal */
export function parseLogLevel(text: string | undefined): LogLevel {
  if (text === undefined) return "info";
  if ((LOG_LEVELS as readonly string[]).includes(text)) return text as LogLevel;
  throw new UsageError(`--log-level: expected ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(text)}`);
}

function show(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === "bigint") return value.toString();
  if (value === undefined) return "-";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A logger writing `level` and above to `out`. @internal */
export function lineLogger(out: Writable, level: LogLevel): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const at =
    (name: LogLevel) =>
    (msg: string, ...keyvals: unknown[]): void => {
      if (LOG_LEVELS.indexOf(name) < min) return;
      let line = `${name.toUpperCase()} ${msg}`;
      for (let i = 0; i < keyvals.length; i += 2) {
        line += ` ${String(keyvals[i])}=${show(keyvals[i + 1])}`;
      }
      out.write(`${line}\n`);
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
