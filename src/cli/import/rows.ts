/**
 * Rows of an import, or a command line's flags, turned into store entries:
 * IP reputations (`ip,status,severity,tags,last_updated,metadata`) and
 * generic key/value pairs. Every check names what is wrong; the caller adds
 * where (`file:line`).
 *
 * @internal
 * @module
 */
import { isIP } from "node:net";
import type { JsonValue } from "type-fest";
import type { StoreEntry } from "../../datastores/store.js";
import { type IPReputation, REPUTATION_STATUSES, type ReputationStatus } from "../../datastores/types.js";

/** What a store holds: IP reputations, or JSON values under JSON keys. @internal */
export type StoreKind = "ip" | "value";

/** A bad row or flag value; `line` is set by the reader that found it. @internal */
export class RowError extends Error {
  override readonly name = "RowError";
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/**
 * One record of the input: its fields by name, and whether they are CSV text
 * (every value a string, where `""` means absent) or JSON values.
 */
export interface InputRecord {
  readonly line: number;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly text: boolean;
  /** Why the record could not be read (not JSON, a wrong field count): a bad row, the input goes on. */
  readonly error?: string;
}

/** The columns (fields) each kind takes. @internal */
export const IP_FIELDS = ["ip", "status", "severity", "tags", "last_updated", "metadata"] as const;
/** Other spellings of the IP fields: the TypeScript names, and a `key` for the address. */
const IP_ALIASES: Readonly<Record<string, string>> = { lastupdated: "last_updated", key: "ip" };
export const VALUE_FIELDS = ["key", "value"] as const;
const VALUE_ALIASES: Readonly<Record<string, string>> = { data: "value" };

/** The canonical name of a column or field for `kind`, or `undefined` for one it does not take. @internal */
export function fieldName(kind: StoreKind, name: string): string | undefined {
  const lower = name.trim().toLowerCase();
  const fields: readonly string[] = kind === "ip" ? IP_FIELDS : VALUE_FIELDS;
  if (fields.includes(lower)) return lower;
  const aliases = kind === "ip" ? IP_ALIASES : VALUE_ALIASES;
  return Object.hasOwn(aliases, lower) ? aliases[lower] : undefined;
}

const describe = (value: unknown) => (typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value));

/** A status by name (`deny`, `DENY`, `REPUTATION_DENY`) or number (0-3). @internal */
export function parseStatus(value: unknown): ReputationStatus {
  if (typeof value === "number" || (typeof value === "string" && /^\s*\d+\s*$/.test(value))) {
    const status = REPUTATION_STATUSES[Number(value)];
    if (status !== undefined && Number.isInteger(Number(value))) return status;
  } else if (typeof value === "string") {
    const name = value.trim().toLowerCase().replace(/^reputation_/, "") as ReputationStatus;
    if (REPUTATION_STATUSES.includes(name)) return name;
  }
  throw new RowError(`status must be allow, deny, suspicious, unknown or 0-3, got ${describe(value)}`);
}

/** A severity, a whole number from 1 to 10 (as a number or its text). @internal */
export function parseSeverity(value: unknown): number {
  const n = typeof value === "number" ? value : typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 10) throw new RowError(`severity must be a whole number from 1 to 10, got ${describe(value)}`);
  return n;
}

/** Tags: a JSON array of strings, or `;`-separated text. @internal */
export function parseTags(value: unknown): string[] {
  if (Array.isArray(value)) {
    if (!value.every((t) => typeof t === "string")) throw new RowError("tags must be strings");
    return value as string[];
  }
  if (typeof value !== "string") throw new RowError(`tags must be a list of strings or ";"-separated text, got ${describe(value)}`);
  const text = value.trim();
  if (text.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new RowError(`tags: not a valid JSON array: ${text}`);
    }
    return parseTags(parsed);
  }
  return text
    .split(";")
    .map((t) => t.trim())
    .filter((t) => t !== "");
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 timestamp (`2024-05-01T12:00:00Z`). @internal */
export function parseTimestamp(value: unknown): Date {
  const text = typeof value === "string" ? value.trim() : undefined;
  const date = text !== undefined && RFC3339.test(text) ? new Date(text.replace(" ", "T")) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new RowError(`last_updated must be an RFC 3339 timestamp such as 2024-05-01T12:00:00Z, got ${describe(value)}`);
  }
  return date;
}

/** Metadata: a JSON object of strings, or `k=v;k=v` text. @internal */
export function parseMetadata(value: unknown): Record<string, string> {
  if (typeof value === "string") {
    const text = value.trim();
    if (text.startsWith("{")) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new RowError(`metadata: not a valid JSON object: ${text}`);
      }
      return parseMetadata(parsed);
    }
    const out: Record<string, string> = {};
    for (const pair of text.split(";")) {
      if (pair.trim() === "") continue;
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new RowError(`metadata must be a JSON object or k=v;k=v pairs, got ${JSON.stringify(text)}`);
      setOwn(out, pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return out;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RowError(`metadata must be an object of strings, got ${describe(value)}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw new RowError(`metadata values must be strings; ${JSON.stringify(k)} is ${describe(v)}`);
    setOwn(out, k, v);
  }
  return out;
}

/** Sets an own property, `__proto__` included. */
function setOwn(target: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** An IP address, as `node:net` reads one. @internal */
export function parseIp(value: unknown): string {
  if (typeof value !== "string" || isIP(value.trim()) === 0) throw new RowError(`ip must be an IPv4 or IPv6 address, got ${describe(value)}`);
  return value.trim();
}

/** Whether a field holds nothing: missing, or empty CSV text. */
const absent = (value: unknown, text: boolean) => value === undefined || (text && value === "");

/**
 * A record's fields by canonical name; throws for a field `kind` does not take.
 * A JSON record `{key, data: {…}}` (a store entry) is read as its data's fields plus the key.
 */
function normalise(kind: StoreKind, record: InputRecord): Map<string, unknown> {
  let fields = record.fields;
  if (kind === "ip" && !record.text && typeof fields["data"] === "object" && fields["data"] !== null && !Array.isArray(fields["data"])) {
    const { data, ...rest } = fields as { data: Record<string, unknown> };
    fields = { ...rest, ...data };
  }
  const out = new Map<string, unknown>();
  for (const [name, value] of Object.entries(fields)) {
    const canonical = fieldName(kind, name);
    if (canonical === undefined) {
      const expected = kind === "ip" ? IP_FIELDS.join(", ") : VALUE_FIELDS.join(", ");
      throw new RowError(`unexpected field ${JSON.stringify(name)} (expected ${expected})`);
    }
    if (out.has(canonical)) throw new RowError(`field ${JSON.stringify(canonical)} given twice`);
    out.set(canonical, value);
  }
  return out;
}

/**
 * An IP reputation entry from a record. `ip`, `status` and `severity` are
 * required; `lastUpdated` defaults to `now`.
 *
 * @internal
 */
export function ipEntry(record: InputRecord, now: Date): StoreEntry<string, IPReputation> {
  const fields = normalise("ip", record);
  const get = (name: string) => {
    const value = fields.get(name);
    return absent(value, record.text) ? undefined : value;
  };
  const need = (name: string) => {
    const value = get(name);
    if (value === undefined || value === null) throw new RowError(`${name} is missing`);
    return value;
  };
  const tags = get("tags");
  const lastUpdated = get("last_updated");
  const metadata = get("metadata");
  return {
    key: parseIp(need("ip")),
    data: {
      status: parseStatus(need("status")),
      severity: parseSeverity(need("severity")),
      tags: tags === undefined || tags === null ? [] : parseTags(tags),
      lastUpdated: lastUpdated === undefined || lastUpdated === null ? now : parseTimestamp(lastUpdated),
      metadata: metadata === undefined || metadata === null ? {} : parseMetadata(metadata),
    },
  };
}

/** A CSV cell's value: JSON when it parses as JSON, the text itself otherwise. @internal */
export function jsonOrString(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/** Keys of a value store: scalar JSON values (strings, finite numbers, booleans, null). */
function checkKey(key: unknown): JsonValue {
  if (key === null || typeof key === "string" || typeof key === "boolean" || (typeof key === "number" && Number.isFinite(key))) return key;
  throw new RowError(`key must be a string, number, boolean or null, got ${describe(key)}`);
}

/**
 * A key/value entry from a record: CSV keys are text as is and CSV values
 * JSON-or-text; JSON records keep their values' types.
 *
 * @internal
 */
export function valueEntry(record: InputRecord): StoreEntry<JsonValue, JsonValue> {
  const fields = normalise("value", record);
  const key = fields.get("key");
  if (absent(key, record.text)) throw new RowError("key is missing");
  if (!fields.has("value")) throw new RowError("value is missing");
  const value = fields.get("value");
  if (record.text) return { key: key as string, data: jsonOrString(value as string) };
  if (value === undefined) throw new RowError("value is missing");
  return { key: checkKey(key), data: value as JsonValue };
}
