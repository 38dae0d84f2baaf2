/**
 * `tracee/process_tree`: Tracee's process tree, rebuilt from the event
 * stream. Ported from `pkg/datastores/process` (the legacy signature data
 * source in `datasource.go`, the process store in `store.go`) and the types
 * in `types/datasource/proctree.go` and `api/v1beta1/datastores/types.go`.
 *
 * @module
 */
import { dataSourceRef, type DataSourceRef } from "../../detect/data-source.js";
import { ErrDataNotFound } from "../../detect/errors.js";
import { getData } from "../../events/data.js";
import type { TraceeEvent } from "../../events/model.js";
import { hashTaskId } from "./hash.js";
import {
  type BuiltinDataSource,
  type BuiltinStats,
  checkDuration,
  checkMax,
  describeKey,
  EventClock,
  eventNanos,
  ExpiryQueue,
  goSchema,
  intArg,
  keyNotSupported,
  LruList,
  nanosOf,
  type QueryTime,
  strArg,
  u64Arg,
} from "./shared.js";

/** The events the process tree learns from (besides every event's workload). */
export const PROCESS_TREE_EVENTS: readonly string[] = Object.freeze([
  "sched_process_fork",
  "sched_process_exec",
  "sched_process_exit",
]);

/** Default bound on the processes kept: 32768. (Tracee's own default is 10000.) */
export const DEFAULT_MAX_PROCESSES = 32_768;
/** Default time an exited process is kept (event time): 60 s. */
export const DEFAULT_EXITED_RETENTION_MS = 60_000;

/** Options of {@link ProcessTreeDataSource}. */
export interface ProcessTreeOptions {
  /** The most processes kept; the least recently active go first. Default {@link DEFAULT_MAX_PROCESSES}. */
  readonly maxEntries?: number;
  /**
   * How long (in event time, milliseconds) an exited process stays queryable
   * before it is dropped. A process with children still in the tree stays
   * until they are gone, so lineages hold. Default {@link DEFAULT_EXITED_RETENTION_MS}.
   */
  readonly exitedRetentionMs?: number;
  /**
   * Learn processes (pids, comm, executable, parent) from the workload of
   * every event, not only from fork/exec/exit. Default `true`.
   */
  readonly fromWorkloads?: boolean;
}

/**
 * A process, as Tracee's process store gives it (Go:
 * `datastores.ProcessInfo`): what {@link ProcessTreeDataSource.ancestry},
 * `process` and `children` return. Times are nanoseconds since the epoch,
 * `0n` when unknown (start) or still running (exit).
 */
export interface ProcessInfo {
  /** The process's entity id (`unique_id` in events). */
  readonly uniqueId: number;
  /** The parent's entity id, 0 when unknown. */
  readonly parentUniqueId: number;
  /** The pid on the host. */
  readonly hostPid: number;
  /** The pid in the process's pid namespace (a container's). */
  readonly pid: number;
  readonly hostPpid: number;
  readonly ppid: number;
  /** The process's name (`comm`): `"bash"`. */
  readonly name: string;
  /** The executable's path: `"/usr/bin/bash"`. */
  readonly exe: string;
  readonly startTime: bigint;
  readonly exitTime: bigint;
  /** The real user id, as the last event from the process carried it. */
  readonly uid: number;
  /** The container it runs in, `""` on the host. (Not in Tracee's struct.) */
  readonly containerId: string;
  /** Whether it has exited. (Not in Tracee's struct: `exitTime !== 0n`.) */
  readonly exited: boolean;
}

/** A value with the time it holds for. Go: `datasource.TimeRelevantInfo[T]`. */
export interface TimeRelevantInfo<T> {
  /** The query time, nanoseconds since the epoch. */
  readonly timestamp: bigint;
  readonly info: T;
}

/** A file, as the legacy data source describes an executable. Go: `datasource.FileInfo`. */
export interface TreeFileInfo {
  readonly path: string;
  /** Always `""`, as in Tracee. */
  readonly hash: string;
  readonly inode: bigint;
  readonly device: number;
  /** The file's ctime, nanoseconds since the epoch. */
  readonly ctime: bigint;
  readonly mode: number;
}

/**
 * A process at a time, as the legacy `process_tree` data source gives it
 * (Go: `datasource.ProcessInfo`). `pid` and `ppid` are host pids, `nsPid`
 * the namespace pid; times are nanoseconds since the epoch (`0n`: unknown).
 */
export interface TreeProcessInfo {
  readonly entityId: number;
  readonly pid: number;
  readonly nsPid: number;
  readonly ppid: number;
  /** The container id (Tracee leaves it empty; this tree fills it from the workload). */
  readonly containerId: string;
  /** The argv of the last exec seen (Tracee leaves it empty). */
  readonly cmd: readonly string[];
  readonly executionBinary: TreeFileInfo;
  /** The ELF interpreter (loader) path from the exec event. */
  readonly interpreter: TreeFileInfo;
  /** The interpreter of a script (`interp`) from the exec event. */
  readonly interp: TreeFileInfo;
  readonly startTime: bigint;
  readonly execTime: bigint;
  readonly exitTime: bigint;
  readonly parentEntityId: number;
  /** Threads alive at the query time, tid → entity id. Empty: threads are not tracked (Tracee's default). */
  readonly threadsIds: ReadonlyMap<number, number>;
  /** Children alive at the query time, host pid → entity id. */
  readonly childProcessesIds: ReadonlyMap<number, number>;
  readonly isAlive: boolean;
}

/** A thread at a time. Go: `datasource.ThreadInfo`. (Threads are not tracked: no lookup returns one.) */
export interface TreeThreadInfo {
  readonly entityId: number;
  readonly tid: number;
  readonly nsTid: number;
  readonly pid: number;
  readonly userId: number;
  readonly groupId: number;
  readonly startTime: bigint;
  readonly exitTime: bigint;
  readonly name: string;
  readonly processEntityId: number;
  readonly isAlive: boolean;
}

/** A process and its ancestors, the process first. Go: `datasource.ProcessLineage`. */
export type ProcessLineage = readonly TimeRelevantInfo<TreeProcessInfo>[];

/** Asks for a process at a time. Go: `datasource.ProcKey`. Build one with {@link procKey}. */
export interface ProcKey {
  readonly type: "datasource.ProcKey";
  /** The process's entity id. */
  readonly entityId: number;
  /** Default: the newest event's time. */
  readonly time?: QueryTime;
}

/** Asks for a thread at a time. Go: `datasource.ThreadKey`. Build one with {@link threadKey}. */
export interface ThreadKey {
  readonly type: "datasource.ThreadKey";
  readonly entityId: number;
  readonly time?: QueryTime;
}

/** Asks for a process and up to `maxDepth` ancestors. Go: `datasource.LineageKey`. Build one with {@link lineageKey}. */
export interface LineageKey {
  readonly type: "datasource.LineageKey";
  readonly entityId: number;
  readonly maxDepth: number;
  readonly time?: QueryTime;
}

/** The keys `process_tree` takes. */
export type ProcessTreeKey = ProcKey | ThreadKey | LineageKey;

/** What a {@link ProcKey} gets. */
export type ProcessInfoResult = {
  readonly process_info: TimeRelevantInfo<TreeProcessInfo>;
};
/** What a {@link ThreadKey} would get. */
export type ThreadInfoResult = {
  readonly thread_info: TimeRelevantInfo<TreeThreadInfo>;
};
/** What a {@link LineageKey} gets (as in Tracee, the lineage itself, not wrapped in a `TimeRelevantInfo`). */
export type LineageResult = {
  readonly process_lineage: ProcessLineage;
};
/** What `process_tree` returns. */
export type ProcessTreeResult = ProcessInfoResult | ThreadInfoResult | LineageResult;

function withTime<K extends object>(key: K, time: QueryTime | undefined): K {
  return Object.freeze(time === undefined ? key : { ...key, time });
}

/** A {@link ProcKey}: the process `entityId` at `time` (default: the newest event's). */
export function procKey(entityId: number, time?: QueryTime): ProcKey {
  return withTime({ type: "datasource.ProcKey" as const, entityId }, time);
}

/** A {@link ThreadKey}: the thread `entityId` at `time`. */
export function threadKey(entityId: number, time?: QueryTime): ThreadKey {
  return withTime({ type: "datasource.ThreadKey" as const, entityId }, time);
}

/** A {@link LineageKey}: the process `entityId` and up to `maxDepth` ancestors at `time`. */
export function lineageKey(entityId: number, maxDepth: number, time?: QueryTime): LineageKey {
  return withTime({ type: "datasource.LineageKey" as const, entityId, maxDepth }, time);
}

/** A typed reference to the process tree: `ctx.getDataSource(processTreeRef)`. */
export const processTreeRef: DataSourceRef<ProcessTreeDataSource> = dataSourceRef<ProcessTreeDataSource>(
  "tracee",
  "process_tree",
);

const SCHEMA = goSchema({
  process_info: "datasource.TimeRelevantInfo[datasource.ProcessInfo]",
  thread_info: "datasource.TimeRelevantInfo[datasource.ThreadInfo]",
  process_lineage: "datasource.TimeRelevantInfo[datasource.ProcessLineage]",
});
const KEYS = ["datasource.ProcKey", "datasource.ThreadKey", "datasource.LineageKey"] as const;
const COMM_LEN = 16;
const NO_ARGS: readonly string[] = Object.freeze([]);
const EMPTY_MAP: ReadonlyMap<number, number> = new Map();
/** Ancestors kept warm in the LRU by a descendant's activity (so 5-level ancestries hold). */
const WARM_ANCESTORS = 4;

interface Node {
  readonly id: number;
  parent: number;
  hostPid: number;
  pid: number;
  hostPpid: number;
  ppid: number;
  name: string;
  exe: string;
  uid: number;
  start: bigint;
  exec: bigint;
  exit: bigint;
  containerId: string;
  cmd: readonly string[];
  inode: bigint;
  dev: number;
  ctime: bigint;
  mode: number;
  interpreter: string;
  interp: string;
  children: Set<number> | undefined;
  older: Node | undefined;
  newer: Node | undefined;
}

function newNode(id: number): Node {
  return {
    id,
    parent: 0,
    hostPid: 0,
    pid: 0,
    hostPpid: 0,
    ppid: 0,
    name: "",
    exe: "",
    uid: 0,
    start: 0n,
    exec: 0n,
    exit: 0n,
    containerId: "",
    cmd: NO_ARGS,
    inode: 0n,
    dev: 0,
    ctime: 0n,
    mode: 0,
    interpreter: "",
    interp: "",
    children: undefined,
    older: undefined,
    newer: undefined,
  };
}

interface Expiry {
  readonly id: number;
  readonly due: number;
  readonly exit: bigint;
}

type ParsedKey =
  | { readonly type: "datasource.ProcKey"; readonly entityId: number; readonly time: bigint | undefined }
  | { readonly type: "datasource.ThreadKey"; readonly entityId: number; readonly time: bigint | undefined }
  | { readonly type: "datasource.LineageKey"; readonly entityId: number; readonly time: bigint | undefined; readonly maxDepth: number };

const isU32 = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
const nonZero = (v: number | undefined): v is number => v !== undefined && v !== 0;

function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

function fileInfo(path: string, inode = 0n, device = 0, ctime = 0n, mode = 0): TreeFileInfo {
  return Object.freeze({ path, hash: "", inode, device, ctime, mode });
}

function aliveAt(n: Node, t: bigint): boolean {
  if (n.exit !== 0n && t > n.exit) return false;
  return t >= n.start;
}

/**
 * Tracee's process tree data source (`tracee`/`process_tree`, version 1),
 * rebuilt from `sched_process_fork`, `sched_process_exec`,
 * `sched_process_exit` and the workload of every event.
 *
 * Processes are keyed by entity id (`workload.process.unique_id`, Tracee's
 * hash of the host tid and start time; see {@link hashTaskId}). `get` takes
 * the legacy keys ({@link procKey}, {@link lineageKey}, {@link threadKey});
 * {@link ProcessTreeDataSource.ancestry} is the process store's
 * `GetAncestry`, which the engine uses for `autoPopulate.processAncestry`.
 *
 * Bounded: at most `maxEntries` processes, the least recently active
 * evicted first (a process's activity keeps its nearest ancestors warm);
 * an exited process is dropped `exitedRetentionMs` after its exit, once it
 * has no children left in the tree.
 *
 * @example
 * ```ts
 * const tree = new ProcessTreeDataSource();
 * for (const event of events) tree.observe(event);
 * const { process_info } = tree.get(procKey(getProcessEntityId(event)));
 * tree.ancestry(getProcessEntityId(event), 5).map((p) => p.name); // ["sh", "bash", "sshd", …]
 * ```
 */
export class ProcessTreeDataSource implements BuiltinDataSource<ProcessTreeKey, ProcessTreeResult> {
  readonly events: readonly string[] = PROCESS_TREE_EVENTS;
  readonly #nodes = new Map<number, Node>();
  readonly #lru = new LruList<Node>();
  readonly #clock = new EventClock();
  readonly #max: number;
  readonly #retention: number;
  readonly #fromWorkloads: boolean;
  readonly #expiries = new ExpiryQueue<Expiry>();
  #evictions = 0;
  #expired = 0;

  constructor(options: ProcessTreeOptions = {}) {
    this.#max = checkMax("maxEntries", options.maxEntries, DEFAULT_MAX_PROCESSES);
    this.#retention = checkDuration("exitedRetentionMs", options.exitedRetentionMs, DEFAULT_EXITED_RETENTION_MS);
    this.#fromWorkloads = options.fromWorkloads ?? true;
  }

  /** Go: `Get`. Throws `ErrKeyNotSupported` for anything but the three keys, `ErrDataNotFound` for an unknown process. */
  get(key: ProcKey): ProcessInfoResult;
  get(key: LineageKey): LineageResult;
  get(key: ThreadKey): ThreadInfoResult;
  get(key: ProcessTreeKey): ProcessTreeResult;
  get(key: ProcessTreeKey): ProcessTreeResult {
    const k = parseKey(key);
    if (k.type === "datasource.ThreadKey") throw ErrDataNotFound; // threads are not tracked (Tracee's default)
    const n = this.#nodes.get(k.entityId);
    if (n === undefined) throw ErrDataNotFound;
    const t = k.time ?? this.#clock.nanos();
    if (k.type === "datasource.ProcKey") return Object.freeze({ process_info: this.#export(n, t) });
    return Object.freeze({ process_lineage: this.#lineage(n, t, k.maxDepth) });
  }

  /** 1. Go: `Version`. */
  version(): number {
    return 1;
  }

  /** Tracee's key type names. Go: `Keys`. */
  keys(): string[] {
    return [...KEYS];
  }

  /** Go: `Schema` (the JSON Tracee gives, byte for byte). */
  schema(): string {
    return SCHEMA;
  }

  namespace(): string {
    return "tracee";
  }

  id(): string {
    return "process_tree";
  }

  /**
   * The process `entityId`, or `undefined` when not in the tree. Go:
   * `ProcessStore.GetProcess`.
   */
  process(entityId: number): ProcessInfo | undefined {
    const n = this.#nodes.get(entityId);
    return n === undefined ? undefined : info(n);
  }

  /** The children of `entityId` still in the tree, alive or not. Go: `ProcessStore.GetChildProcesses`. */
  children(entityId: number): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    for (const id of this.#nodes.get(entityId)?.children ?? []) {
      const c = this.#nodes.get(id);
      if (c !== undefined) out.push(info(c));
    }
    return out;
  }

  /**
   * The process `entityId` then its parents: at most `maxDepth` entries in
   * all (`[0]` the process, `[1]` its parent, …). Stops at a parent not in
   * the tree; empty when `maxDepth` ≤ 0 or the process is unknown. Go:
   * `ProcessStore.GetAncestry`.
   */
  ancestry(entityId: number, maxDepth: number): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    if (!(maxDepth > 0)) return out;
    const seen = new Set<number>();
    let id = entityId;
    for (let i = 0; i < maxDepth; i++) {
      const n = this.#nodes.get(id);
      if (n === undefined || seen.has(id)) break;
      seen.add(id);
      out.push(info(n));
      if (n.parent === 0 || n.parent === id) break;
      id = n.parent;
    }
    return out;
  }

  observe(event: TraceeEvent): void {
    this.#clock.tick(event.timestamp);
    switch (event.name) {
      case "sched_process_fork":
        this.#onFork(event, this.#fromWorkload(event));
        break;
      case "sched_process_exec":
        this.#onExec(event, this.#fromWorkload(event));
        break;
      case "sched_process_exit":
        this.#onExit(event, this.#fromWorkload(event));
        break;
      default:
        if (this.#fromWorkloads) this.#fromWorkload(event);
    }
    this.#expiries.consume(this.#expire);
    while (this.#nodes.size > this.#max) {
      this.#delete(this.#lru.oldest as Node);
      this.#evictions++;
    }
  }

  stats(): BuiltinStats {
    return { entries: this.#nodes.size, maxEntries: this.#max, evictions: this.#evictions, expired: this.#expired };
  }

  clear(): void {
    this.#nodes.clear();
    this.#lru.clear();
    this.#clock.reset();
    this.#expiries.clear();
    this.#evictions = 0;
    this.#expired = 0;
  }

  // --- building ---

  /** The node of `id`, created when missing, moved to the LRU's newest end. */
  #touch(id: number): Node {
    let n = this.#nodes.get(id);
    if (n === undefined) {
      n = newNode(id);
      this.#nodes.set(id, n);
      this.#lru.push(n);
    } else {
      this.#lru.touch(n);
    }
    return n;
  }

  #setParent(n: Node, parentId: number): Node | undefined {
    if (parentId === 0 || parentId === n.id) return undefined;
    if (n.parent !== parentId) {
      this.#nodes.get(n.parent)?.children?.delete(n.id);
      n.parent = parentId;
    }
    const p = this.#touch(parentId);
    (p.children ??= new Set()).add(n.id);
    return p;
  }

  #fromWorkload(event: TraceeEvent): Node | undefined {
    const p = event.workload?.process;
    const id = p?.uniqueId ?? 0;
    if (p === undefined || id === 0) return undefined;
    const wasMru = this.#lru.newest?.id === id;
    const known = wasMru || this.#nodes.has(id);
    const n = this.#touch(id);
    if (nonZero(p.hostPid)) n.hostPid = p.hostPid;
    if (nonZero(p.pid)) n.pid = p.pid;
    const t = p.thread;
    // The thread group leader's comm is the process's; another thread's may differ.
    if (t !== undefined && (t.hostTid === undefined || t.hostTid === 0 || t.hostTid === p.hostPid)) {
      if (t.name !== "") n.name = t.name;
      if (n.start === 0n && t.startTime !== undefined) n.start = nanosOf(t.startTime) ?? 0n;
    }
    const exe = p.executable?.path;
    if (exe !== undefined && exe !== "") n.exe = exe;
    const uid = p.realUser?.id;
    if (uid !== undefined) n.uid = uid;
    const cid = event.workload?.container?.id;
    if (cid !== undefined && cid !== "") n.containerId = cid;
    const ancestors = p.ancestors;
    const parent = ancestors[0];
    if (parent !== undefined && nonZero(parent.uniqueId) && (!known || n.parent !== parent.uniqueId)) {
      // A new process, or a new parent: link the chain the event carries.
      let child = n;
      for (const a of ancestors) {
        const aid = a.uniqueId ?? 0;
        if (aid === 0) break;
        const an = this.#setParent(child, aid);
        if (an === undefined) break;
        if (nonZero(a.hostPid)) child.hostPpid = a.hostPid;
        if (nonZero(a.pid)) child.ppid = a.pid;
        if (nonZero(a.hostPid) && an.hostPid === 0) an.hostPid = a.hostPid;
        if (nonZero(a.pid) && an.pid === 0) an.pid = a.pid;
        if (an.name === "" && a.thread !== undefined && a.thread.name !== "") an.name = a.thread.name;
        if (an.exe === "" && a.executable !== undefined) an.exe = a.executable.path;
        child = an;
      }
      this.#touch(id);
    } else if (!wasMru) {
      // Keep the nearest ancestors warm: the engine asks for 5 levels.
      let aid = n.parent;
      for (let i = 0; i < WARM_ANCESTORS && aid !== 0 && aid !== id; i++) {
        const a = this.#nodes.get(aid);
        if (a === undefined) break;
        this.#lru.touch(a);
        aid = a.parent === aid ? 0 : a.parent;
      }
      this.#lru.touch(n);
    }
    if (n.parent !== 0 && parent !== undefined && parent.uniqueId === n.parent) {
      if (nonZero(parent.hostPid)) n.hostPpid = parent.hostPid;
      if (nonZero(parent.pid)) n.ppid = parent.pid;
    }
    return n;
  }

  /**
   * A fork: the new process (the thread group leader) under its parent.
   * Entity ids come from the fork's arguments as Tracee computes them
   * (`HashTaskID(tid, start time)`), or from the forking task's workload.
   */
  #onFork(event: TraceeEvent, forker: Node | undefined): void {
    const childTid = intArg(event, "child_tid") ?? 0;
    const childPid = intArg(event, "child_pid") ?? 0;
    const childStart = u64Arg(event, "start_time") ?? 0n;
    const parentPid = intArg(event, "parent_pid") ?? 0;
    const parentNsPid = intArg(event, "parent_ns_pid") ?? 0;

    const ppTid = intArg(event, "parent_process_tid") ?? 0;
    const ppStart = u64Arg(event, "parent_process_start_time") ?? 0n;
    const parentId = ppTid !== 0 && ppStart !== 0n ? hashTaskId(ppTid, ppStart) : (forker?.id ?? 0);

    let leaderTid = intArg(event, "leader_tid") ?? 0;
    let leaderStart = u64Arg(event, "leader_start_time") ?? 0n;
    let leaderPid = intArg(event, "leader_pid") ?? 0;
    let leaderNsPid = intArg(event, "leader_ns_pid") ?? 0;
    if (leaderTid === 0 || leaderStart === 0n) {
      // Without the process-tree arguments, only a new process (tid = pid) can be placed.
      if (childTid === 0 || childTid !== childPid || childStart === 0n) return;
      leaderTid = childTid;
      leaderStart = childStart;
      leaderPid = childPid;
      leaderNsPid = intArg(event, "child_ns_pid") ?? 0;
    }
    if (parentId === 0 || childTid === 0) return;
    const leaderId = hashTaskId(leaderTid, leaderStart);
    if (leaderId === parentId) return;

    const parentKnown = this.#nodes.has(parentId);
    const parent = this.#touch(parentId);
    if (!parentKnown || parent.hostPid === 0) {
      parent.hostPid = intArg(event, "parent_process_pid") || parentPid;
      parent.pid = intArg(event, "parent_process_ns_pid") || parentNsPid;
      if (parent.start === 0n) parent.start = ppStart;
    }

    const leaderKnown = this.#nodes.has(leaderId);
    const leader = this.#touch(leaderId);
    if (!leaderKnown || leader.hostPpid !== parentPid) {
      if (leaderPid !== 0) leader.hostPid = leaderPid;
      if (leaderNsPid !== 0) leader.pid = leaderNsPid;
      leader.start = leaderStart;
      leader.hostPpid = parentPid;
      leader.ppid = parentNsPid;
      if (leader.name === "") leader.name = parent.name;
    }
    this.#setParent(leader, parentId);
    if (childTid === leaderTid && !leaderKnown) {
      // A new process runs its parent's program until it execs.
      leader.exe = parent.exe;
      leader.inode = parent.inode;
      leader.dev = parent.dev;
      leader.ctime = parent.ctime;
      leader.mode = parent.mode;
      leader.interpreter = parent.interpreter;
      leader.interp = parent.interp;
      leader.cmd = parent.cmd;
      leader.uid = parent.uid;
      leader.containerId = parent.containerId;
    }
    this.#touch(leaderId);
  }

  /**
   * An exec: the process's new program. Ignored from a thread, as Tracee
   * does. The name is the event's comm (Tracee takes `cmdpath`'s base name,
   * cut to 16 characters; the comm is what the kernel kept of it), that base
   * name without a comm.
   */
  #onExec(event: TraceeEvent, n: Node | undefined): void {
    if (n === undefined || !fromLeader(event)) return;
    const cmdpath = strArg(event, "cmdpath");
    const comm = event.workload?.process?.thread?.name ?? "";
    if (comm !== "") n.name = comm;
    else if (cmdpath !== undefined && cmdpath !== "") n.name = basename(cmdpath).slice(0, COMM_LEN);
    const pathname = strArg(event, "pathname");
    if (pathname !== undefined && pathname !== "") n.exe = pathname;
    n.exec = eventNanos(event, this.#clock.nanos());
    n.exit = 0n;
    n.inode = u64Arg(event, "inode") ?? 0n;
    n.dev = intArg(event, "dev") ?? 0;
    n.ctime = u64Arg(event, "ctime") ?? 0n;
    n.mode = intArg(event, "inode_mode") ?? 0;
    n.interpreter = strArg(event, "interpreter_pathname") ?? "";
    n.interp = strArg(event, "interp") ?? "";
    const argv = getData(event, "argv", "str_array");
    n.cmd = argv === undefined ? NO_ARGS : Object.freeze([...argv]);
  }

  /** An exit of the thread group leader (or of the whole group) marks the process exited. */
  #onExit(event: TraceeEvent, n: Node | undefined): void {
    if (n === undefined || n.exit !== 0n) return;
    if (!fromLeader(event) && getData(event, "process_group_exit", "bool") !== true) return;
    n.exit = eventNanos(event, this.#clock.nanos());
    this.#schedule(n, this.#clock.ms + this.#retention);
  }

  #schedule(n: Node, due: number): void {
    this.#expiries.push({ id: n.id, due, exit: n.exit });
  }

  /** Drops exited processes whose time is up and that have no children left in the tree. */
  /** One exit from the queue: stops at one not yet due; drops the process once due, unless it was reused or still has children. */
  readonly #expire = (e: Expiry): boolean => {
    if (e.due > this.#clock.ms) return false;
    const n = this.#nodes.get(e.id);
    if (n === undefined || n.exit !== e.exit || n.exit === 0n) return true;
    if (n.children !== undefined && n.children.size > 0) return true; // rescheduled when the last child goes
    this.#delete(n);
    this.#expired++;
    return true;
  };


  #delete(n: Node): void {
    this.#nodes.delete(n.id);
    this.#lru.remove(n);
    const p = this.#nodes.get(n.parent);
    if (p === undefined || p.children === undefined) return;
    p.children.delete(n.id);
    if (p.children.size === 0 && p.exit !== 0n) {
      const exitMs = Number(p.exit / 1_000_000n) + this.#retention;
      this.#schedule(p, Math.max(exitMs, this.#clock.ms));
    }
  }

  // --- exporting ---

  #export(n: Node, t: bigint): TimeRelevantInfo<TreeProcessInfo> {
    let children: Map<number, number> | undefined;
    for (const id of n.children ?? []) {
      const c = this.#nodes.get(id);
      if (c !== undefined && aliveAt(c, t)) (children ??= new Map()).set(c.hostPid, id);
    }
    const processInfo: TreeProcessInfo = Object.freeze({
      entityId: n.id,
      pid: n.hostPid,
      nsPid: n.pid,
      ppid: n.hostPpid,
      containerId: n.containerId,
      cmd: n.cmd,
      executionBinary: fileInfo(n.exe, n.inode, n.dev, n.ctime, n.mode),
      interpreter: fileInfo(n.interpreter),
      interp: fileInfo(n.interp),
      startTime: n.start,
      execTime: n.exec,
      exitTime: n.exit,
      parentEntityId: n.parent,
      threadsIds: EMPTY_MAP,
      childProcessesIds: children ?? EMPTY_MAP,
      isAlive: aliveAt(n, t),
    });
    return Object.freeze({ timestamp: t, info: processInfo });
  }

  /**
   * Go's `exportProcessLineage`: the process, then up to `maxDepth` parents;
   * stops at a namespace's init (pid 1); each parent as it was when its
   * child started.
   */
  #lineage(n: Node, t: bigint, maxDepth: number): ProcessLineage {
    const out = [this.#export(n, t)];
    const seen = new Set([n.id]);
    let current = n;
    for (let depth = 0; depth < maxDepth; depth++) {
      if (current.pid === 1) break;
      const start = current.start;
      const next = this.#nodes.get(current.parent);
      if (next === undefined || seen.has(next.id)) break;
      seen.add(next.id);
      out.push(this.#export(next, start));
      current = next;
    }
    return Object.freeze(out);
  }
}

function fromLeader(event: TraceeEvent): boolean {
  const p = event.workload?.process;
  const tid = p?.thread?.hostTid;
  return tid === undefined || tid === 0 || tid === p?.hostPid;
}

function info(n: Node): ProcessInfo {
  return Object.freeze({
    uniqueId: n.id,
    parentUniqueId: n.parent,
    hostPid: n.hostPid,
    pid: n.pid,
    hostPpid: n.hostPpid,
    ppid: n.ppid,
    name: n.name,
    exe: n.exe,
    startTime: n.start,
    exitTime: n.exit,
    uid: n.uid,
    containerId: n.containerId,
    exited: n.exit !== 0n,
  });
}

function parseKey(key: unknown): ParsedKey {
  const what = 'expected a ProcKey, ThreadKey or LineageKey (procKey(…), lineageKey(…), threadKey(…))';
  if (typeof key !== "object" || key === null || Array.isArray(key)) {
    throw keyNotSupported("process_tree", `${what}, got ${describeKey(key)}`);
  }
  const { type, entityId, time, maxDepth } = key as Record<string, unknown>;
  if (type !== KEYS[0] && type !== KEYS[1] && type !== KEYS[2]) {
    throw keyNotSupported("process_tree", `${what}, got an object with type ${JSON.stringify(type) ?? "undefined"}`);
  }
  if (!isU32(entityId)) {
    throw keyNotSupported("process_tree", `entityId: expected an unsigned 32-bit integer, got ${String(entityId)}`);
  }
  const t = time === undefined ? undefined : nanosOf(time);
  if (time !== undefined && t === undefined) {
    throw keyNotSupported("process_tree", "time: expected nanoseconds (bigint), a Date or a Timestamp");
  }
  if (type === "datasource.LineageKey") {
    if (typeof maxDepth !== "number" || !Number.isInteger(maxDepth)) {
      throw keyNotSupported("process_tree", `maxDepth: expected an integer, got ${String(maxDepth)}`);
    }
    return { type, entityId, time: t, maxDepth };
  }
  return { type, entityId, time: t };
}
