/**
 * How Go's standard library writes the values Tracee's JSON printer writes:
 * `strconv.FormatFloat(f, 'g', -1, 64)`, `time.RFC3339Nano` in UTC, and the
 * two string escapings (Tracee's own, and protojson's as re-compacted by
 * `encoding/json`). Reading is the inverse: RFC 3339 back to a timestamp.
 *
 * @internal
 * @module
 */
import type { Timestamp } from "../../gen/google/protobuf/timestamp.js";

/**
 * `strconv.FormatFloat(n, 'g', -1, 64)`: the shortest digits that read back
 * as `n`, in `%e` form (`1e+06`, `1.5e-05`) when the exponent is below -4 or
 * at least 6 (Go's rule for the shortest precision), else in `%f` form.
 */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "+Inf";
  if (n === Number.NEGATIVE_INFINITY) return "-Inf";
  if (n === 0) return Object.is(n, -0) ? "-0" : "0";
  // toExponential() without a digit count gives the shortest round-trip digits.
  const exponential = n.toExponential();
  const e = exponential.indexOf("e");
  const exp = Number(exponential.slice(e + 1));
  if (exp < -4 || exp >= 6) {
    const mantissa = exponential.slice(0, e);
    const abs = Math.abs(exp);
    return `${mantissa}e${exp < 0 ? "-" : "+"}${abs < 10 ? "0" : ""}${abs}`;
  }
  // In this range JavaScript's own shortest form is already %f.
  return String(n);
}

/**
 * A JSON string as Tracee's printer writes it (`writeEscapedString`): `"`
 * and `\` escaped, \b \f \n \r \t by name, other control characters as
 * `\u00XX`, everything else as is — exactly what `JSON.stringify` does for
 * any string Tracee can hold (valid UTF-8).
 */
export const tsString: (s: string) => string = JSON.stringify;

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;
const HTML_ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/**
 * A JSON string as Tracee's network, DNS and HTTP values carry it: protojson
 * escapes it like {@link tsString}, then Go's `encoding/json` re-compacts the
 * output and escapes `<`, `>`, `&`, U+2028 and U+2029 as `\u003c` etc.
 */
export function protoString(s: string): string {
  const json = JSON.stringify(s);
  return HTML_UNSAFE.test(json) ? json.replace(HTML_UNSAFE, (c) => HTML_ESCAPES[c] ?? c) : json;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** Days since 1970-01-01 → [year, month 1-12, day 1-31] (proleptic Gregorian). */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

/** [year, month 1-12, day 1-31] → days since 1970-01-01. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function formatYear(year: number): string {
  const digits = String(Math.abs(year)).padStart(4, "0");
  return year < 0 ? `-${digits}` : digits;
}

/**
 * `time.Unix(seconds, nanos).UTC().Format(time.RFC3339Nano)`: trailing zeros
 * of the fraction trimmed, no fraction at all for a whole second, `Z`.
 * Nanoseconds outside 0–999,999,999 carry into the seconds, as Go's do.
 */
export function rfc3339Nano(ts: Timestamp): string {
  let seconds = ts.seconds;
  let nanos = ts.nanos;
  if (nanos < 0 || nanos >= 1e9) {
    const carry = Math.floor(nanos / 1e9);
    seconds += BigInt(carry);
    nanos -= carry * 1e9;
  }
  const secs = Number(seconds);
  const days = Math.floor(secs / 86400);
  const inDay = secs - days * 86400;
  const [year, month, day] = civilFromDays(days);
  const h = Math.floor(inDay / 3600);
  const m = Math.floor((inDay % 3600) / 60);
  const s = inDay % 60;
  let out = `${formatYear(year)}-${pad2(month)}-${pad2(day)}T${pad2(h)}:${pad2(m)}:${pad2(s)}`;
  if (nanos !== 0) out += `.${String(nanos).padStart(9, "0").replace(/0+$/, "")}`;
  return `${out}Z`;
}

const RFC3339 = /^(-?\d{4,})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const digit = (text: string, i: number): number => {
  const d = text.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : Number.NaN;
};
const two = (text: string, i: number): number => digit(text, i) * 10 + digit(text, i + 1);

/** The days-since-epoch of each month's first day are cached per year and month. */
const dayCache = new Map<number, number>();

/**
 * Tracee's own form, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, read without a
 * regular expression; `undefined` for anything else (the general reader
 * takes over).
 */
function parseTraceeTime(text: string): Timestamp | undefined {
  const n = text.length;
  if (n < 20 || text.charCodeAt(n - 1) !== 0x5a /* Z */ || text[4] !== "-" || text[7] !== "-" || text[10] !== "T") {
    return undefined;
  }
  if (text[13] !== ":" || text[16] !== ":") return undefined;
  const year = two(text, 0) * 100 + two(text, 2);
  const month = two(text, 5);
  const day = two(text, 8);
  const hour = two(text, 11);
  const minute = two(text, 14);
  const second = two(text, 17);
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60)) {
    return undefined;
  }
  let nanos = 0;
  if (n > 20) {
    if (text[19] !== "." || n - 21 > 9 || n === 21) return undefined;
    let scale = 100_000_000;
    for (let i = 20; i < n - 1; i++) {
      const d = digit(text, i);
      if (Number.isNaN(d)) return undefined;
      nanos += d * scale;
      scale /= 10;
    }
  }
  const key = year * 16 + month;
  let monthStart = dayCache.get(key);
  if (monthStart === undefined) {
    monthStart = daysFromCivil(year, month, 1);
    if (dayCache.size < 4096) dayCache.set(key, monthStart);
  }
  const days = monthStart + day - 1;
  if (day > 28 && civilFromDays(days)[1] !== month) return undefined; // 2023-02-30
  return { seconds: BigInt(days * 86400 + hour * 3600 + minute * 60 + second), nanos };
}

/**
 * Reads an RFC 3339 time (`2023-05-28T14:46:21.0281669Z`, any offset) as a
 * timestamp; returns `undefined` when `text` is not one.
 */
export function parseRfc3339(text: string): Timestamp | undefined {
  const fast = parseTraceeTime(text);
  if (fast !== undefined) return fast;
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  const days = daysFromCivil(year, month, day);
  if (civilFromDays(days)[2] !== day) return undefined; // 2023-02-30
  let offset = 0;
  if (sign !== undefined) {
    const offH = Number(oh);
    const offM = Number(om);
    if (offH > 23 || offM > 59) return undefined;
    offset = (sign === "-" ? -1 : 1) * (offH * 3600 + offM * 60);
  }
  const seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset;
  const nanos = frac === undefined ? 0 : Number(frac.padEnd(9, "0"));
  return { seconds: BigInt(seconds), nanos };
}
