/**
 * `tracee/dns`: Tracee's DNS cache, rebuilt from `net_packet_dns`
 * responses. Ported from `pkg/datastores/dns` (`dnscache.go`, `node.go`,
 * `query.go`, the legacy signature data source in `datasource.go` and the
 * DNS store in `store.go`).
 *
 * @module
 */
import { dataSourceRef, type DataSourceRef } from "../../detect/data-source.js";
import { ErrDataNotFound } from "../../detect/errors.js";
import { getData } from "../../events/data.js";
import type { DNS, TraceeEvent } from "../../events/model.js";
import type { DNSResourceRecord } from "../../gen/tracee/v1beta1/event_data.js";
import {
  type BuiltinDataSource,
  type BuiltinStats,
  checkMax,
  describeKey,
  EventClock,
  eventNanos,
  goSchema,
  keyNotSupported,
  LruList,
} from "./shared.js";

/** The events the DNS cache learns from. */
export const DNS_EVENTS: readonly string[] = Object.freeze(["net_packet_dns"]);

/** Default bound on the names and addresses kept: 8192. (Tracee bounds its query roots at 5000.) */
export const DEFAULT_MAX_DNS_ENTRIES = 8192;

/** Options of {@link DnsDataSource}. */
export interface DnsOptions {
  /**
   * The most names and addresses kept, all responses together; when over,
   * the least recently used query goes with everything it resolved.
   * Default {@link DEFAULT_MAX_DNS_ENTRIES}.
   */
  readonly maxEntries?: number;
}

/**
 * What `get(nameOrIp)` returns (Go: `DNSDatasource.Get`): every name and
 * address linked to the key, its query first.
 */
export type DnsResult = {
  /** The addresses (A/AAAA answers, and PTR queries) linked to the key. */
  readonly ip_addresses: readonly string[];
  /** The names linked to the key, the query that led to it first. */
  readonly dns_queries: readonly string[];
  /** `dns_queries[0]`, or `""`. */
  readonly dns_root: string;
};

/** A cached response. Go: `datastores.DNSResponse`. */
export interface DnsResponse {
  readonly query: string;
  readonly ips: readonly string[];
  readonly domains: readonly string[];
}

/** Counters of the DNS cache: `entries` counts names and addresses. */
export interface DnsStats extends BuiltinStats {
  /** Queries at the root of what is cached (the LRU's unit, Tracee's "query roots"). */
  readonly roots: number;
}

/** A typed reference to the DNS cache: `ctx.getDataSource(dnsRef)`. */
export const dnsRef: DataSourceRef<DnsDataSource> = dataSourceRef<DnsDataSource>("tracee", "dns");

const SCHEMA = goSchema({ ip_addresses: "[]string", dns_queries: "[]string", dns_root: "string" });
const REVERSE_V4 = ".in-addr.arpa";
const REVERSE_V6 = ".ip6.arpa";
/** Go's largest time: root nodes never expire. */
const NEVER = 1n << 127n;

interface DnsNode {
  readonly value: string;
  readonly ip: boolean;
  /** Nanoseconds since the epoch. */
  expiresAt: bigint;
  readonly parents: Map<string, DnsNode>;
  readonly next: Map<string, DnsNode>;
  /** Whether it is a query root, in the roots' LRU list. */
  root: boolean;
  older: DnsNode | undefined;
  newer: DnsNode | undefined;
}

function dnsNode(value: string, ip: boolean, expiresAt: bigint, parent: DnsNode | undefined): DnsNode {
  return {
    value,
    ip,
    expiresAt,
    parents: parent === undefined ? new Map() : new Map([[parent.value, parent]]),
    next: new Map(),
    root: false,
    older: undefined,
    newer: undefined,
  };
}

function trimReverse(value: string): string {
  if (value.endsWith(REVERSE_V4)) value = value.slice(0, -REVERSE_V4.length);
  if (value.endsWith(REVERSE_V6)) value = value.slice(0, -REVERSE_V6.length);
  return value;
}

/** What an answer resolves to, and whether it is an address. Go: `makeNodeFromAnswer`. */
function answerValue(answer: DNSResourceRecord): [string, boolean] {
  switch (answer.type) {
    case "CNAME":
      return [answer.cname, false];
    case "A":
    case "AAAA":
      return [answer.ip, true];
    case "MX":
      return [answer.mx?.name ?? "", false];
    case "SRV":
      return [answer.srv?.name ?? "", false];
    case "PTR":
      return [answer.ptr, false];
    default:
      return ["", false];
  }
}

/** The `dns` value of a `net_packet_dns` event: `proto_dns`, or the first argument of that kind. */
function dnsOf(event: TraceeEvent): DNS | undefined {
  const named = getData(event, "proto_dns", "dns");
  if (named !== undefined) return named;
  for (const v of event.data) if (v.dns !== undefined) return v.dns;
  return undefined;
}

/**
 * Tracee's DNS data source (`tracee`/`dns`, version 1), rebuilt from
 * `net_packet_dns` responses the way Tracee's DNS cache is.
 *
 * Each response (`qr` 1, one question, some answers) links its question to
 * its answers: CNAME, MX, SRV and PTR names, A and AAAA addresses. `get`
 * takes a name or an address (a reverse-lookup suffix, `.in-addr.arpa` or
 * `.ip6.arpa`, is trimmed) and returns every name and address linked to it,
 * upwards to the query and downwards to what it resolved to. Answers expire
 * after their TTL (in event time: the newest event's); queries do not.
 * Bounded: at most `maxEntries` names and addresses, the least recently
 * used query dropped first with all it resolved.
 *
 * @example
 * ```ts
 * const dns = new DnsDataSource();
 * dns.observe(response); // www.zip.net CNAME amazonas.uol.com.br
 * dns.get("amazonas.uol.com.br").dns_root; // "www.zip.net"
 * ```
 */
export class DnsDataSource implements BuiltinDataSource<string, DnsResult> {
  readonly events: readonly string[] = DNS_EVENTS;
  /** Every name and address → its node. Go: `queryIndices`. */
  readonly #index = new Map<string, DnsNode>();
  /** Query roots in LRU order. Go: `queryRoots`. */
  readonly #roots = new LruList<DnsNode>();
  #rootCount = 0;
  readonly #clock = new EventClock();
  readonly #max: number;
  #evictions = 0;

  constructor(options: DnsOptions = {}) {
    this.#max = checkMax("maxEntries", options.maxEntries, DEFAULT_MAX_DNS_ENTRIES);
  }

  /**
   * Everything linked to `key`, a name or an address. Go: `Get`. Throws
   * `ErrKeyNotSupported` for a non-string, `ErrDataNotFound` when the key is
   * unknown or its answer expired.
   */
  get(key: string): DnsResult {
    if (typeof key !== "string") {
      throw keyNotSupported("dns", `expected a domain name or an IP address (a string), got ${describeKey(key)}`);
    }
    const found = this.#query(key);
    if (found === undefined) throw ErrDataNotFound;
    const [domains, ips] = found;
    return Object.freeze({
      ip_addresses: Object.freeze(ips),
      dns_queries: Object.freeze(domains),
      dns_root: domains[0] ?? "",
    });
  }

  /** 1. Go: `Version`. */
  version(): number {
    return 1;
  }

  /** `["string"]`. Go: `Keys`. */
  keys(): string[] {
    return ["string"];
  }

  /** Go: `Schema` (the JSON Tracee gives, byte for byte). */
  schema(): string {
    return SCHEMA;
  }

  namespace(): string {
    return "tracee";
  }

  id(): string {
    return "dns";
  }

  /** The cached response for `query`, or `undefined`. Go: `DNSStore.GetDNSResponse`. */
  response(query: string): DnsResponse | undefined {
    const found = this.#query(query);
    if (found === undefined) return undefined;
    return Object.freeze({ query, ips: Object.freeze(found[1]), domains: Object.freeze(found[0]) });
  }

  observe(event: TraceeEvent): void {
    this.#clock.tick(event.timestamp);
    if (event.name !== "net_packet_dns") return;
    const dns = dnsOf(event);
    if (dns === undefined || dns.qr !== 1 || dns.answers.length < 1 || dns.questions.length !== 1) return;
    this.#add(dns, eventNanos(event, this.#clock.nanos()));
    this.#enforce();
  }

  stats(): DnsStats {
    return {
      entries: this.#index.size,
      maxEntries: this.#max,
      evictions: this.#evictions,
      expired: 0,
      roots: this.#rootCount,
    };
  }

  clear(): void {
    this.#index.clear();
    this.#roots.clear();
    this.#rootCount = 0;
    this.#clock.reset();
    this.#evictions = 0;
  }

  // --- building (Go: Add, addRootNode, addChildNodes) ---

  #add(dns: DNS, at: bigint): void {
    const question = dns.questions[0] as DNS["questions"][number];
    const reverse = question.type === "PTR";
    // Tracee indexes a PTR query by its name without the reverse suffix.
    const value = reverse ? trimReverse(question.name) : question.name;
    if (value === "") return;
    const existing = this.#index.get(value);
    if (existing !== undefined) {
      this.#bump(existing);
      this.#addChildren(dns.answers, existing, at);
      return;
    }
    const root = dnsNode(value, reverse, NEVER, undefined);
    root.root = true;
    this.#index.set(value, root);
    this.#roots.push(root);
    this.#rootCount++;
    this.#addChildren(dns.answers, root, at);
  }

  #addChildren(answers: readonly DNSResourceRecord[], parent: DnsNode, at: bigint): void {
    for (const answer of answers) {
      // An answer names what it answers for: a CNAME's target may be the real parent of the next record.
      let context = parent;
      if (answer.name !== parent.value) {
        const actual = this.#index.get(answer.name);
        if (actual !== undefined) context = actual;
      }
      const [value, ip] = answerValue(answer);
      if (value === "") continue; // an answer of another type (TXT, SOA, …): nothing to link
      const expiresAt = at + BigInt(answer.ttl) * 1_000_000_000n;
      const child = this.#index.get(value);
      if (child === undefined) {
        const node = dnsNode(value, ip, expiresAt, context);
        this.#index.set(value, node);
        context.next.set(value, node);
      } else if (child !== context) {
        child.parents.set(context.value, context);
        if (child.expiresAt !== NEVER) child.expiresAt = expiresAt;
      }
    }
  }

  /** Moves a root to the LRU's newest end. */
  #bump(node: DnsNode): void {
    if (node.root) this.#roots.touch(node);
  }

  /** Drops the least recently used roots, with all they resolved, until within the bound. */
  #enforce(): void {
    while (this.#index.size > this.#max) {
      const root = this.#roots.oldest;
      if (root === undefined) break;
      this.#clearNode(root);
    }
  }

  /** Go: `clearNode`: unindexes a node and everything under it. */
  #clearNode(node: DnsNode): void {
    const stack = [node];
    while (stack.length > 0) {
      const n = stack.pop() as DnsNode;
      if (this.#index.get(n.value) === n) {
        this.#index.delete(n.value);
        this.#evictions++;
      }
      if (n.root) {
        this.#roots.remove(n);
        n.root = false;
        this.#rootCount--;
      }
      for (const child of n.next.values()) stack.push(child);
      n.next.clear();
    }
  }

  // --- querying (Go: Get, addNodeChildrenToQueryResult, addNodeParentsToQueryResult) ---

  /** `[names, addresses]` linked to `key`, or `undefined` when unknown or expired. */
  #query(key: string): [string[], string[]] | undefined {
    const node = this.#index.get(trimReverse(key));
    if (node === undefined) return undefined;
    if (this.#clock.nanos() > node.expiresAt) return undefined;
    const domains: string[] = [];
    const ips: string[] = [];
    const seen = new Set<DnsNode>([node]);
    (node.ip ? ips : domains).push(node.value);
    this.#down(node, domains, ips, seen);
    this.#up(node, domains, ips, seen);
    if (domains.length === 0 && ips.length === 0) return undefined;
    return [domains, ips];
  }

  /** What `node` resolved to, appended depth first. */
  #down(node: DnsNode, domains: string[], ips: string[], seen: Set<DnsNode>): void {
    for (const child of node.next.values()) {
      if (seen.has(child) || this.#index.get(child.value) !== child) continue;
      seen.add(child);
      (child.ip ? ips : domains).push(child.value);
      this.#down(child, domains, ips, seen);
    }
  }

  /** What led to `node`, prepended, up to the query; reaching a root bumps it in the LRU. */
  #up(node: DnsNode, domains: string[], ips: string[], seen: Set<DnsNode>): void {
    if (node.parents.size === 0) this.#bump(node);
    for (const parent of node.parents.values()) {
      if (seen.has(parent) || this.#index.get(parent.value) !== parent) continue;
      seen.add(parent);
      (parent.ip ? ips : domains).unshift(parent.value);
      this.#up(parent, domains, ips, seen);
    }
  }
}
