import { UsageError } from "./errors.js";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** Parses `500`, `500ms`, `5s` or `1m` into milliseconds; throws a UsageError otherwise. @internal */
export function parseDuration(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (match === null) throw new UsageError(`--${flag}: expected a duration such as 500ms, 5s or 1m, got ${JSON.stringify(text)}`);
  const ms = Number(match[1]) * (UNITS[match[2] ?? "ms"] ?? 1);
  if (!(ms > 0)) throw new UsageError(`--${flag}: must be greater than zero`);
  return ms;
}
