/**
 * {@link ipReputationStore}: Tracee's `ip_reputation` store — what sources
 * (threat feeds, allow lists) say about IP addresses, and which of them a
 * detector sees when they disagree.
 *
 * @module
 */
import { readonlyDate } from "./readonly-date.js";
import { isPlainObject, setOwn, show } from "../../codec/schema/internal.js";
import { invalidArgument } from "../errors.js";
import type { MessageType } from "../any.js";
import { checkSource, type StoreEntry, type WritableStore } from "../store.js";
import { ipAddressKeyType, ipReputationType, REPUTATION_STATUSES, type IPReputation } from "../types.js";
import { normalizeIP, tryNormalizeIP } from "./ip-address.js";
import { checkEntries, entryParts, entryPrefix, Partitions, type Slot, type Staged } from "./partitions.js";

/**
 * How the store picks one reputation when several sources rated an address
 * (Go: the store's conflict policy):
 * - `"last-write-wins"` (default, Tracee's default): the latest `lastUpdated`;
 *   a reputation without one counts as the Unix epoch, as in Go;
 * - `"max-severity"`: the highest `severity`;
 * - `"priority-based"`: the source with the highest priority in `priorities`
 *   (a source not listed has priority 0).
 *
 * Ties are broken the same way under every policy, so the winner never
 * depends on write order: then the latest `lastUpdated`, then the highest
 * `severity`, then the source name that sorts first by UTF-16 code units.
 */
export type ConflictPolicy = "last-write-wins" | "max-severity" | "priority-based";

/** The conflict policies, in the order {@link ConflictPolicy} describes them. */
export const CONFLICT_POLICIES: readonly ConflictPolicy[] = Object.freeze([
  "last-write-wins",
  "max-severity",
  "priority-based",
]);

/** A reputation as the store hands it out: frozen, with the source whose verdict it is. */
export interface ResolvedReputation extends IPReputation {
  /** The source that wrote it. */
  readonly source: string;
  readonly tags: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
}

/** Options for {@link ipReputationStore}. */
export interface IPReputationStoreOptions {
  /** The name it is registered and served under. Default `"ip_reputation"`. */
  readonly name?: string;
  /** How disagreeing sources are resolved. Default `"last-write-wins"`. */
  readonly policy?: ConflictPolicy;
  /** Source → priority for `"priority-based"` (higher wins; a source not listed has 0). Finite numbers. */
  readonly priorities?: Readonly<Record<string, number>>;
}

/**
 * Tracee's `ip_reputation` store: keys are IP addresses (`IPAddressKey` on the
 * wire), data {@link IPReputation}. Every source keeps its own verdict per
 * address; reads resolve them with the store's {@link ConflictPolicy}.
 */
export interface IPReputationStore extends WritableStore<string, IPReputation> {
  /** The conflict policy it was made with. */
  readonly policy: ConflictPolicy;
  /**
   * The reputation the policy picks for `ip` (any form {@link normalizeIP}
   * takes), with its source; `undefined` when no source rated it or `ip` is
   * not an address. Go: `GetReputation`.
   */
  get(ip: string): ResolvedReputation | undefined;
  /** The same as {@link IPReputationStore.get}. Go: `GetReputation`. */
  getReputation(ip: string): ResolvedReputation | undefined;
  /** Whether the resolved status of `ip` is `"deny"`. Go: `IsDenied`. */
  isDenied(ip: string): boolean;
  /** Whether the resolved status of `ip` is `"allow"`. Go: `IsAllowed`. */
  isAllowed(ip: string): boolean;
  /**
   * The resolved reputations of the addresses some source rated, keyed by the
   * text given (not normalised), so `result.get(ip)` works for each `ip`
   * passed. Go: `CheckIPs`.
   */
  checkIPs(ips: Iterable<string>): Map<string, ResolvedReputation>;
  /** `source`'s own reputation for `ip`, whatever the policy picks. */
  getFromSource(source: string, ip: string): ResolvedReputation | undefined;
  /** Synchronous: see {@link WritableStore.write}. */
  write(source: string, entry: StoreEntry<string, IPReputation>): void;
  /** Synchronous: see {@link WritableStore.writeBatch}. */
  writeBatch(source: string, entries: readonly StoreEntry<string, IPReputation>[]): number;
  /** Synchronous: see {@link WritableStore.delete}. */
  delete(source: string, ip: string): boolean;
  /** Synchronous: see {@link WritableStore.clear}. */
  clear(source: string): number;
  /** The sources holding at least one entry, sorted by UTF-16 code units; a new array. */
  listSources(): string[];
}

const MIN_SEVERITY = 1;
const MAX_SEVERITY = 10;

/** A stored reputation, and its `lastUpdated` in ms since the epoch (0 when absent): what comparisons read, as a reader could change the Date it gets. */
interface Stored {
  readonly rep: ResolvedReputation;
  readonly time: number;
}

// Shared by every entry without tags or metadata: a million entries need not hold a million empty objects.
const NO_TAGS: readonly string[] = Object.freeze([]);
const NO_METADATA: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Tags, metadata keys and values repeat across a feed ("botnet", "c2") but
 * arrive as fresh strings from the wire: keeping one copy of each saves
 * memory per entry. Bounded, so a feed of unique strings cannot grow it.
 */
class Interner {
  readonly #strings = new Map<string, string>();

  intern(text: string): string {
    if (text.length > 64) return text;
    const known = this.#strings.get(text);
    if (known !== undefined) return known;
    if (this.#strings.size < 4096) this.#strings.set(text, text);
    return text;
  }
}

function checkTags(tags: unknown, where: string, strings: Interner): readonly string[] {
  if (tags === undefined) return NO_TAGS;
  if (!Array.isArray(tags)) throw invalidArgument(`${where}tags must be a list of strings, got ${show(tags)}`);
  if (tags.length === 0) return NO_TAGS;
  const out: string[] = [];
  for (let i = 0; i < tags.length; i++) {
    const tag: unknown = tags[i];
    if (typeof tag !== "string") throw invalidArgument(`${where}tags[${i}] must be a string, got ${show(tag)}`);
    out.push(strings.intern(tag));
  }
  return Object.freeze(out);
}

function checkMetadata(metadata: unknown, where: string, strings: Interner): Readonly<Record<string, string>> {
  if (metadata === undefined) return NO_METADATA;
  if (!isPlainObject(metadata)) throw invalidArgument(`${where}metadata must be an object of strings, got ${show(metadata)}`);
  const keys = Object.keys(metadata);
  if (keys.length === 0) return NO_METADATA;
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = metadata[key];
    if (typeof value !== "string") {
      throw invalidArgument(`${where}metadata[${JSON.stringify(key)}] must be a string, got ${show(value)}`);
    }
    setOwn(out, strings.intern(key), strings.intern(value));
  }
  return Object.freeze(out);
}

/** Checks a reputation as Tracee does (status, severity 1-10) and more (tags, metadata, date); returns a frozen copy. */
function checkReputation(data: unknown, source: string, where: string, strings: Interner): Stored {
  if (typeof data !== "object" || data === null) throw invalidArgument(`${where}expected an IPReputation, got ${show(data)}`);
  const rep = data as Partial<Record<keyof IPReputation, unknown>>;
  const status = rep.status;
  if (!(REPUTATION_STATUSES as readonly unknown[]).includes(status)) {
    throw invalidArgument(`${where}status must be one of ${REPUTATION_STATUSES.map((s) => `"${s}"`).join(", ")}, got ${show(status)}`);
  }
  const severity = rep.severity;
  if (typeof severity !== "number" || !Number.isInteger(severity) || severity < MIN_SEVERITY || severity > MAX_SEVERITY) {
    throw invalidArgument(`${where}severity must be an integer from ${MIN_SEVERITY} to ${MAX_SEVERITY}, got ${show(severity)}`);
  }
  const tags = checkTags(rep.tags, where, strings);
  const metadata = checkMetadata(rep.metadata, where, strings);
  const when = rep.lastUpdated;
  let time = 0;
  let lastUpdated: Date | undefined;
  if (when !== undefined) {
    if (!(when instanceof Date) || !Number.isFinite(when.getTime())) {
      throw invalidArgument(`${where}lastUpdated must be a valid Date, got ${show(when)}`);
    }
    time = when.getTime();
    lastUpdated = readonlyDate(when);
  }
  const checked = status as IPReputation["status"];
  const stored: ResolvedReputation =
    lastUpdated === undefined
      ? { status: checked, severity, tags, metadata, source }
      : { status: checked, severity, tags, metadata, source, lastUpdated };
  return { rep: Object.freeze(stored), time };
}

function checkKey(key: unknown, where: string): string {
  try {
    return normalizeIP(key as string);
  } catch (err) {
    throw invalidArgument(`${where}key: ${(err as Error).message}`, { cause: err });
  }
}

function checkOptions(options: IPReputationStoreOptions): { name: string; policy: ConflictPolicy; priorities: Map<string, number> } {
  const name = options.name ?? "ip_reputation";
  if (typeof name !== "string" || name === "") throw new TypeError(`name must be a non-empty string, got ${show(name)}`);
  const policy = options.policy ?? "last-write-wins";
  if (!CONFLICT_POLICIES.includes(policy)) {
    throw new RangeError(`policy must be one of ${CONFLICT_POLICIES.map((p) => `"${p}"`).join(", ")}, got ${show(policy)}`);
  }
  const priorities = new Map<string, number>();
  if (options.priorities !== undefined) {
    if (!isPlainObject(options.priorities)) throw new TypeError(`priorities must be an object of source → number, got ${show(options.priorities)}`);
    for (const [source, priority] of Object.entries(options.priorities)) {
      if (typeof priority !== "number" || !Number.isFinite(priority)) {
        throw new RangeError(`priorities[${JSON.stringify(source)}] must be a finite number, got ${show(priority)}`);
      }
      priorities.set(source, priority);
    }
  }
  return { name, policy, priorities };
}

class IPReputationStoreImpl implements IPReputationStore {
  readonly name: string;
  readonly policy: ConflictPolicy;
  readonly keyType: MessageType<string> = ipAddressKeyType;
  readonly dataType: MessageType<IPReputation> = ipReputationType;
  readonly #entries = new Partitions<Stored>();
  readonly #strings = new Interner();
  readonly #primary: (stored: Stored) => number;

  constructor(options: IPReputationStoreOptions) {
    const { name, policy, priorities } = checkOptions(options);
    this.name = name;
    this.policy = policy;
    this.#primary =
      policy === "last-write-wins"
        ? (stored) => stored.time
        : policy === "max-severity"
          ? (stored) => stored.rep.severity
          : (stored) => priorities.get(stored.rep.source) ?? 0;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(ip: string): ResolvedReputation | undefined {
    const id = tryNormalizeIP(ip);
    return id === undefined ? undefined : this.#resolve(id);
  }

  getReputation(ip: string): ResolvedReputation | undefined {
    return this.get(ip);
  }

  isDenied(ip: string): boolean {
    return this.get(ip)?.status === "deny";
  }

  isAllowed(ip: string): boolean {
    return this.get(ip)?.status === "allow";
  }

  checkIPs(ips: Iterable<string>): Map<string, ResolvedReputation> {
    const found = new Map<string, ResolvedReputation>();
    for (const ip of ips) {
      const rep = this.get(ip);
      if (rep !== undefined) found.set(ip, rep);
    }
    return found;
  }

  getFromSource(source: string, ip: string): ResolvedReputation | undefined {
    const id = tryNormalizeIP(ip);
    return id === undefined ? undefined : this.#entries.slot(source, id)?.data.rep;
  }

  write(source: string, entry: StoreEntry<string, IPReputation>): void {
    checkSource(source);
    this.#entries.putAll(source, [this.#stage(entry, source, undefined)]);
  }

  writeBatch(source: string, entries: readonly StoreEntry<string, IPReputation>[]): number {
    checkSource(source);
    checkEntries(entries);
    // An index loop, not map: a hole in the array is an entry too (refused), never skipped.
    const staged: Staged<Stored>[] = [];
    for (let index = 0; index < entries.length; index++) staged.push(this.#stage(entries[index], source, index));
    return this.#entries.putAll(source, staged);
  }

  delete(source: string, ip: string): boolean {
    checkSource(source);
    return this.#entries.remove(source, checkKey(ip, ""));
  }

  clear(source: string): number {
    checkSource(source);
    return this.#entries.clear(source);
  }

  listSources(): string[] {
    return this.#entries.sources();
  }

  #stage(entry: unknown, source: string, index: number | undefined): Staged<Stored> {
    const where = entryPrefix(index);
    const { key, data } = entryParts(entry, where);
    return { id: checkKey(key, where), data: checkReputation(data, source, `${where}data: `, this.#strings) };
  }

  #resolve(id: string): ResolvedReputation | undefined {
    return this.#entries.best(id, this.#slotBeats)?.data.rep;
  }

  readonly #slotBeats = (a: Slot<Stored>, b: Slot<Stored>): boolean => this.#beats(a.data, b.data);

  /** Whether `a` wins over `b`: the policy's measure, then time, then severity, then the source that sorts first. */
  #beats(a: Stored, b: Stored): boolean {
    const primary = this.#primary;
    const pa = primary(a);
    const pb = primary(b);
    if (pa !== pb) return pa > pb;
    if (a.time !== b.time) return a.time > b.time;
    if (a.rep.severity !== b.rep.severity) return a.rep.severity > b.rep.severity;
    return a.rep.source < b.rep.source;
  }
}

/**
 * Makes Tracee's `ip_reputation` store. Go: `ipreputation.NewStore`, with
 * these differences:
 *
 * - **Validation**: status one of the four, severity an integer 1–10 (as
 *   Tracee), and also: the source is a non-empty string ({@link checkSource}),
 *   the key an IPv4 or IPv6 address, tags strings, metadata strings, and
 *   `lastUpdated` a valid Date. Failures throw `INVALID_ARGUMENT`; in a batch
 *   the message starts with the entry's index, `entry 3: data: severity …`.
 * - **Addresses are normalised** ({@link normalizeIP}) on every write,
 *   delete and read: `::FFFF:0102:0304`, `::ffff:1.2.3.4` and `1.2.3.4` are
 *   one key; `2001:DB8:0:0::1` and `2001:db8::1` are one key.
 * - **Ties are deterministic**: see {@link ConflictPolicy}; the winner does
 *   not depend on write order.
 * - **Sources are isolated**: `delete(source, ip)` removes that source's
 *   verdict only and says whether there was one; `clear(source)` returns how
 *   many it removed; a source with nothing left is not listed.
 * - **Batches are atomic**: every entry is checked before any is stored; an
 *   address given twice keeps the later entry; the count is distinct addresses.
 *
 * Stored reputations are frozen copies (tags and metadata too): changing the
 * object written afterwards changes nothing. `lastUpdated` is a copy as well,
 * and comparisons read the time it had when written.
 *
 * @example
 * ```ts
 * const store = ipReputationStore({ policy: "max-severity" });
 * store.write("threat-feed", { key: "::ffff:203.0.113.7", data: { status: "deny", severity: 8, tags: ["c2"], metadata: {} } });
 * store.isDenied("203.0.113.7"); // true
 * store.get("203.0.113.7")?.source; // "threat-feed"
 * ```
 */
export function ipReputationStore(options: IPReputationStoreOptions = {}): IPReputationStore {
  return new IPReputationStoreImpl(options);
}
