import type { JsonValue } from "type-fest";
import type { WriteKey } from "../detect/data-source.js";
import { UsageError } from "./errors.js";

/** One `{"key":…,"value":…}` line. @internal */
export interface StreamEntry {
  readonly key: WriteKey;
  readonly value: JsonValue;
}

const isScalar = (v: unknown): v is WriteKey =>
  v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));

/**
 * Parses NDJSON text into stream entries, one `{"key":…,"value":…}` per line;
 * blank lines are skipped. Throws a UsageError naming the first bad line, so
 * a malformed file sends nothing. @internal
 */
export function parseNdjson(text: string, source: string): StreamEntry[] {
  const entries: StreamEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "") continue;
    const where = `${source}:${i + 1}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      throw new UsageError(`${where}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new UsageError(`${where}: expected an object {"key":…,"value":…}`);
    }
    const record = parsed as Record<string, unknown>;
    if (!Object.hasOwn(record, "key") || !Object.hasOwn(record, "value")) {
      throw new UsageError(`${where}: expected an object with "key" and "value"`);
    }
    const extra = Object.keys(record).filter((k) => k !== "key" && k !== "value");
    if (extra.length > 0) throw new UsageError(`${where}: unexpected field ${JSON.stringify(extra[0])}`);
    if (!isScalar(record["key"])) {
      throw new UsageError(`${where}: "key" must be a string, number, boolean or null`);
    }
    entries.push({ key: record["key"], value: record["value"] as JsonValue });
  }
  return entries;
}
