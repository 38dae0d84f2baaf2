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
import { normalizeIP } from "../../datastores/stores/ip-address.js";
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

/** A UTF-16 surrogate without its pair (JSON's `"\ud800"`): such text has no UTF-8 form. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * `text`, when it has a UTF-8 form. protobuf strings are UTF-8: the encoder
 * would write bytes that are not, which Tracee (Go) refuses, with the batch
 * that holds them.
 */
function utf8Text(text: string, what: string): string {
  if (LONE_SURROGATE.test(text)) throw new RowError(`${what} has a lone surrogate, so it has no UTF-8 form: ${JSON.stringify(text)}`);
  return text;
}

/** Tags: a JSON array of strings, or `;`-separated text. @internal */
export function parseTags(value: unknown): string[] {
  if (Array.isArray(value)) {
    if (!value.every((t) => typeof t === "string")) throw new RowError("tags must be strings");
    value.forEach((t: string, i) => utf8Text(t, `tags[${i}]`));
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
  const tags = text
    .split(";")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  tags.forEach((t, i) => utf8Text(t, `tags[${i}]`));
  return tags;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
/** The times a protobuf Timestamp holds, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z, in a Date's milliseconds. */
const MIN_TIMESTAMP_MS = -62_135_596_800_000;
const MAX_TIMESTAMP_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const daysIn = (year: number, month: number) => (month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31);

/**
 * An RFC 3339 timestamp (`2024-05-01T12:00:00Z`, `2024-05-01 14:00:00.5+02:00`),
 * read as Go's `time.Parse(time.RFC3339, …)` reads one: a day that does not
 * exist (`2024-02-30`), hour 24, second 60 (a leap second) or an offset
 * beyond ±23:59 is refused, not rolled over into the next day. Digits past
 * milliseconds are dropped.
 *
 * @internal
 */
export function parseTimestamp(value: unknown): Date {
  const text = typeof value === "string" ? value.trim() : undefined;
  const m = text === undefined ? null : RFC3339.exec(text);
  if (m === null) throw new RowError(`last_updated must be an RFC 3339 timestamp such as 2024-05-01T12:00:00Z, got ${describe(value)}`);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const impossible = (why: string) => new RowError(`last_updated ${describe(value)} is not a real time: ${why}`);
  if (month < 1 || month > 12) throw impossible(`month ${m[2]} is not 01-12`);
  if (day < 1 || day > daysIn(year, month)) {
    throw impossible(`day ${m[3]} does not exist in ${MONTHS[month - 1]} ${m[1]} (it has ${daysIn(year, month)} days)`);
  }
  if (hour > 23) throw impossible(`hour ${m[4]} is not 00-23`);
  if (minute > 59) throw impossible(`minute ${m[5]} is not 00-59`);
  if (second > 59) throw impossible(`second ${m[6]} is not 00-59 (leap seconds are not accepted)`);
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const offsetHours = Number(m[9]);
    const offsetMins = Number(m[10]);
    if (offsetHours > 23 || offsetMins > 59) throw impossible(`offset ${m[8]}${m[9]}:${m[10]} is not within ±23:59`);
    offsetMinutes = (m[8] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"));
  // Date.UTC reads years 0-99 as 1900-1999: set the year on its own.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millis));
  date.setUTCFullYear(year, month - 1, day);
  date.setTime(date.getTime() - offsetMinutes * 60_000);
  if (date.getTime() < MIN_TIMESTAMP_MS || date.getTime() > MAX_TIMESTAMP_MS) {
    throw new RowError(`last_updated ${describe(value)} is outside 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, the times a protobuf Timestamp holds`);
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
      const key = utf8Text(pair.slice(0, eq).trim(), "a metadata key");
      setOwn(out, key, utf8Text(pair.slice(eq + 1).trim(), `metadata ${JSON.stringify(key)}`));
    }
    return out;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RowError(`metadata must be an object of strings, got ${describe(value)}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw new RowError(`metadata values must be strings; ${JSON.stringify(k)} is ${describe(v)}`);
    setOwn(out, utf8Text(k, "a metadata key"), utf8Text(v, `metadata ${JSON.stringify(k)}`));
  }
  return out;
}

/** Sets an own property, `__proto__` included. */
function setOwn(target: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * An IP address, in the canonical form the `ip_reputation` store keys by
 * ({@link normalizeIP}: `2001:DB8::0001` gives `2001:db8::1`, `::ffff:10.0.0.1`
 * gives `10.0.0.1`), which is also what Go's `net.IP.String` prints. An
 * address the store refuses (a zone index, `fe80::1%eth0`) is refused here.
 *
 * @internal
 */
export function parseIp(value: unknown): string {
  const text = typeof value === "string" ? value.trim() : "";
  if (isIP(text) === 0) throw new RowError(`ip must be an IPv4 or IPv6 address, got ${describe(value)}`);
  try {
    return normalizeIP(text);
  } catch (err) {
    throw new RowError(`ip ${(err as Error).message}`);
  }
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
