/** A Logger for the gRPC tests that keeps what it is told, key/value pairs as an object. */
import type { Logger } from "tracee-ds";

export interface LogLine {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly msg: string;
  /** The Go-style key/value pairs after the message. */
  readonly fields: Readonly<Record<string, unknown>>;
}

export function recordingLogger(): { logger: Logger; lines: LogLine[]; warnings: LogLine[] } {
  const lines: LogLine[] = [];
  const warnings: LogLine[] = [];
  const at =
    (level: LogLine["level"]) =>
    (msg: string, ...keyvals: unknown[]): void => {
      const fields: Record<string, unknown> = {};
      for (let i = 0; i + 1 < keyvals.length; i += 2) fields[String(keyvals[i])] = keyvals[i + 1];
      const line = { level, msg, fields };
      lines.push(line);
      if (level === "warn") warnings.push(line);
    };
  return { logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, lines, warnings };
}
