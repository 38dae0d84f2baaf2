/**
 * {@link normalizeIP}: one text for each IP address, so every way of writing
 * an address names the same `ip_reputation` key.
 *
 * @module
 */
import { show } from "../../codec/schema/internal.js";
import { invalidArgument } from "../errors.js";

// A decimal octet without leading zeros: 0-255 (Node's isIPv4 accepts the same).
const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const HEXTET = /^[0-9A-Fa-f]{1,4}$/;
const MAX_IP_LENGTH = 64;

/** The four octets of a dotted quad, or `undefined`. */
function parseIPv4(text: string): number[] | undefined {
  return IPV4.test(text) ? text.split(".").map(Number) : undefined;
}

/** A piece list (between colons) as 16-bit groups; `undefined` when a piece is not a group (or a final dotted quad). */
function groupsOf(pieces: readonly string[], lastMayBeIPv4: boolean): number[] | undefined {
  const groups: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] as string;
    if (HEXTET.test(piece)) {
      groups.push(parseInt(piece, 16));
      continue;
    }
    const quad = lastMayBeIPv4 && i === pieces.length - 1 ? parseIPv4(piece) : undefined;
    if (quad === undefined) return undefined;
    groups.push(((quad[0] as number) << 8) | (quad[1] as number), ((quad[2] as number) << 8) | (quad[3] as number));
  }
  return groups;
}

/** The eight groups of an IPv6 address in text (RFC 4291 §2.2 forms), or `undefined`. */
function parseIPv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const split = (half: string): string[] => (half === "" ? [] : half.split(":"));
  if (halves.length === 1) {
    const groups = groupsOf(split(text), true);
    return groups?.length === 8 ? groups : undefined;
  }
  const head = groupsOf(split(halves[0] as string), false);
  const tail = groupsOf(split(halves[1] as string), true);
  if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** RFC 5952 text: lowercase, no leading zeros, the first longest run of two or more zero groups as `::`. */
function formatIPv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/**
 * The canonical text of an IP address, the form the `ip_reputation` store
 * keys by:
 *
 * - IPv4: a dotted quad of decimal octets, given exactly so: leading zeros
 *   (`01.2.3.4`, which some parsers read as octal), fewer than four parts,
 *   hex or octal forms are refused (as Node's `net.isIPv4` does);
 * - IPv6: lowercase hex, no leading zeros in a group, the first longest run
 *   of two or more zero groups written `::` (RFC 5952 §4); `2001:DB8:0:0:0:0:0:1`
 *   gives `2001:db8::1`; a trailing dotted quad is read as the last two groups
 *   (`::1.2.3.4` gives `::102:304`);
 * - IPv4-mapped IPv6 (`::ffff:1.2.3.4`, `::FFFF:0102:0304`,
 *   `0:0:0:0:0:ffff:102:304`): the IPv4 address, `1.2.3.4` — one host, one key.
 *
 * Refused with an `INVALID_ARGUMENT` {@link DataStoreError}: anything that is
 * not a string or not an address, surrounding whitespace (not trimmed), brackets
 * (`[::1]`), prefixes (`10.0.0.0/8`), and zone indexes (`fe80::1%eth0`): a zone
 * names a link on one host, so a reputation for it would mean different
 * things on different hosts. Texts longer than 64 characters are refused
 * before parsing. The result is its own canonical form: normalising it again
 * gives it back.
 *
 * @example
 * ```ts
 * normalizeIP("2001:0DB8::0001"); // "2001:db8::1"
 * normalizeIP("::ffff:10.0.0.1"); // "10.0.0.1"
 * normalizeIP("010.0.0.1");       // throws INVALID_ARGUMENT
 * ```
 */
export function normalizeIP(text: string): string {
  if (typeof text !== "string") throw invalidArgument(`an IP address must be a string, got ${show(text)}`);
  if (text.length > MAX_IP_LENGTH) throw invalidArgument(`${show(text)} is not an IPv4 or IPv6 address`);
  if (IPV4.test(text)) return text;
  if (text.includes("%")) {
    throw invalidArgument(`${show(text)} has a zone index: addresses with a zone (fe80::1%eth0) are not accepted`);
  }
  const groups = text.includes(":") ? parseIPv6(text) : undefined;
  if (groups === undefined) throw invalidArgument(`${show(text)} is not an IPv4 or IPv6 address`);
  if (groups[5] === 0xffff && groups.slice(0, 5).every((g) => g === 0)) {
    const high = groups[6] as number;
    const low = groups[7] as number;
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  return formatIPv6(groups);
}

/** {@link normalizeIP}, or `undefined` instead of throwing: for reads, where a bad address is simply not found. */
export function tryNormalizeIP(text: string): string | undefined {
  if (typeof text === "string" && IPV4.test(text)) return text;
  try {
    return normalizeIP(text);
  } catch {
    return undefined;
  }
}
