// The built-in data sources rebuilt from the event stream: Tracee's
// process_tree, containers and dns (namespace "tracee"), with the ids, keys,
// schemas and returned shapes of Tracee's legacy signature data sources
// (pkg/datastores/{process,container,dns}/datasource.go) and the process
// store's GetAncestry; the task hash checked against Tracee's murmur tests.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DataSourceRegistry, ErrDataNotFound, ErrKeyNotSupported, errorIs } from "tracee-ds";
import { decodeEventJson, type DNS, newValue, type Process, type TraceeEvent } from "tracee-ds/events";
import { buildEvent } from "tracee-ds/testing";
import {
  builtinDataSources,
  ContainersDataSource,
  containersRef,
  DnsDataSource,
  dnsRef,
  hashTaskId,
  lineageKey,
  ProcessTreeDataSource,
  processTreeRef,
  procKey,
  threadKey,
} from "tracee-ds/engine";
import { hashU32AndU64, murmur32 } from "../../src/engine/builtins/hash.js";
import { thrown } from "../support/errors.js";

const fixture = readFileSync(new URL("../fixtures/events/v1beta1.ndjson", import.meta.url), "utf8")
  .split("\n")
  .filter((line) => line !== "")
  .map((line) => decodeEventJson(line));
const sample = (name: string): TraceeEvent => {
  const event = fixture.find((e) => e.name === name);
  if (event === undefined) throw new Error(`no ${name} in the fixture`);
  return event;
};

const SEC = 1_000_000_000n;
const T0 = 1_700_000_000n * SEC; // event time base, ns
const at = (seconds: number): bigint => T0 + BigInt(Math.round(seconds * 1000)) * 1_000_000n;

describe("hashTaskId: Tracee's entity ids", () => {
  it("is Tracee's murmur (its own test vectors)", () => {
    expect(murmur32(new Uint8Array())).toBe(0xac1e97d9);
    expect(murmur32(new Uint8Array([0x42]))).toBe(0xd03e2e67);
    expect(murmur32(new Uint8Array([1, 2, 3, 4]))).toBe(0xb503cc53);
    expect(murmur32(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toBe(0x66cb9e81);
    expect(murmur32(new TextEncoder().encode("hello"))).toBe(0x6fcfe226);
    expect(murmur32(new TextEncoder().encode("The quick brown fox jumps over the lazy dog"))).toBe(0x7805e4eb);
    expect(murmur32(new Uint8Array(16).fill(0xaa))).toBe(0x837e5743);
    expect(murmur32(new Uint8Array(10).fill(0xff))).toBe(0xaac3b662);
    expect(hashU32AndU64(0, 0n)).toBe(0xf6c56b4a);
    expect(hashU32AndU64(1, 2n)).toBe(0xd25f0e74);
    expect(hashU32AndU64(0x12345678, 0x123456789abcdef0n)).toBe(0xb065052c);
    expect(hashU32AndU64(0xffffffff, 0n)).toBe(0x6d045877);
  });

  it("rounds the start time down to 100 ms, as HashTaskID does", () => {
    expect(hashTaskId(42, 1_700_000_000_123_456_789n)).toBe(hashU32AndU64(42, 1_700_000_000_100_000_000n));
    expect(hashTaskId(42, 1_700_000_000_199_999_999n)).toBe(hashTaskId(42, 1_700_000_000_100_000_000n));
    expect(hashTaskId(42, 1_700_000_000_200_000_000n)).not.toBe(hashTaskId(42, 1_700_000_000_100_000_000n));
  });
});

// --- process tree ---

interface Task {
  readonly tid: number;
  readonly nsTid?: number;
  readonly start: bigint;
  /** Its comm, for the events it causes. */
  readonly comm?: string;
}
const idOf = (t: Task) => hashTaskId(t.tid, t.start);

/** A sched_process_fork with Tracee's arguments (all of them: the process-tree option is on). */
function fork(parent: Task, child: Task, options: { leader?: Task; time?: bigint } = {}): TraceeEvent {
  const leader = options.leader ?? child;
  return buildEvent("sched_process_fork", {
    timestamp: options.time ?? child.start,
    process: { pid: parent.nsTid ?? parent.tid, hostPid: parent.tid, entityId: idOf(parent), comm: parent.comm ?? "test" },
    data: {
      parent_tid: parent.tid,
      parent_ns_tid: parent.nsTid ?? parent.tid,
      parent_pid: parent.tid,
      parent_ns_pid: parent.nsTid ?? parent.tid,
      parent_start_time: parent.start,
      child_tid: child.tid,
      child_ns_tid: child.nsTid ?? child.tid,
      child_pid: leader.tid,
      child_ns_pid: leader.nsTid ?? leader.tid,
      start_time: child.start,
      parent_process_tid: parent.tid,
      parent_process_ns_tid: parent.nsTid ?? parent.tid,
      parent_process_pid: parent.tid,
      parent_process_ns_pid: parent.nsTid ?? parent.tid,
      parent_process_start_time: parent.start,
      leader_tid: leader.tid,
      leader_ns_tid: leader.nsTid ?? leader.tid,
      leader_pid: leader.tid,
      leader_ns_pid: leader.nsTid ?? leader.tid,
      leader_start_time: leader.start,
    },
  });
}

function exec(task: Task, path: string, time: bigint, argv: readonly string[] = [path]): TraceeEvent {
  const comm = path.slice(path.lastIndexOf("/") + 1).slice(0, 15);
  return buildEvent("sched_process_exec", {
    timestamp: time,
    process: { pid: task.nsTid ?? task.tid, hostPid: task.tid, entityId: idOf(task), comm, executable: path },
    data: [
      newValue("cmdpath", "str", path),
      newValue("pathname", "str", path),
      newValue("dev", "u_int32", 271581185),
      newValue("inode", "u_int64", 2493759n),
      newValue("ctime", "u_int64", 1653730234432691496n),
      newValue("inode_mode", "u_int32", 33261),
      newValue("interpreter_pathname", "str", "/lib64/ld-linux-x86-64.so.2"),
      newValue("argv", "str_array", [...argv]),
      newValue("interp", "str", path),
    ],
  });
}

function exit(task: Task, time: bigint, tid = task.tid): TraceeEvent {
  return buildEvent("sched_process_exit", {
    timestamp: time,
    process: { pid: task.nsTid ?? task.tid, hostPid: task.tid, hostTid: tid, tid, entityId: idOf(task), comm: task.comm ?? "test" },
    data: { exit_code: 0, signal_code: 0, process_group_exit: tid === task.tid },
  });
}

const init: Task = { tid: 1, start: T0 - 3600n * SEC, comm: "init" };
const sshd: Task = { tid: 800, start: T0 - 60n * SEC, comm: "sshd" };
const bash: Task = { tid: 1200, start: at(1), comm: "bash" };
const curl: Task = { tid: 1300, start: at(2), comm: "curl" };

/** init → sshd → bash → curl, each forked then exec'd. */
function lifecycle(tree: ProcessTreeDataSource): void {
  tree.observe(exec(init, "/sbin/init", init.start));
  tree.observe(fork(init, sshd));
  tree.observe(exec(sshd, "/usr/sbin/sshd", sshd.start + SEC, ["/usr/sbin/sshd", "-D"]));
  tree.observe(fork(sshd, bash));
  tree.observe(exec(bash, "/usr/bin/bash", at(1.5), ["-bash"]));
  tree.observe(fork(bash, curl));
  tree.observe(exec(curl, "/usr/bin/curl", at(2.5), ["curl", "http://example.com"]));
}

describe("process_tree", () => {
  it("registers as Tracee's process tree data source", () => {
    const tree = new ProcessTreeDataSource();
    expect([tree.namespace(), tree.id(), tree.version()]).toEqual(["tracee", "process_tree", 1]);
    expect(tree.keys()).toEqual(["datasource.ProcKey", "datasource.ThreadKey", "datasource.LineageKey"]);
    expect(tree.schema()).toBe(
      '{"process_info":"datasource.TimeRelevantInfo[datasource.ProcessInfo]",' +
        '"process_lineage":"datasource.TimeRelevantInfo[datasource.ProcessLineage]",' +
        '"thread_info":"datasource.TimeRelevantInfo[datasource.ThreadInfo]"}',
    );
    expect(tree.events).toEqual(["sched_process_fork", "sched_process_exec", "sched_process_exit"]);
    expect([processTreeRef.namespace, processTreeRef.id]).toEqual(["tracee", "process_tree"]);
  });

  it("builds the tree from fork and exec, keyed by entity id", () => {
    const tree = new ProcessTreeDataSource();
    lifecycle(tree);
    expect(tree.stats()).toEqual({ entries: 4, maxEntries: 32_768, evictions: 0, expired: 0 });

    const { process_info } = tree.get(procKey(idOf(curl), at(3)));
    expect(process_info.timestamp).toBe(at(3));
    expect(process_info.info).toMatchObject({
      entityId: idOf(curl),
      pid: 1300,
      nsPid: 1300,
      ppid: 1200,
      cmd: ["curl", "http://example.com"],
      executionBinary: { path: "/usr/bin/curl", hash: "", inode: 2493759n, device: 271581185, ctime: 1653730234432691496n, mode: 33261 },
      interpreter: { path: "/lib64/ld-linux-x86-64.so.2" },
      startTime: curl.start,
      execTime: at(2.5),
      exitTime: 0n,
      parentEntityId: idOf(bash),
      isAlive: true,
    });
    expect(process_info.info.threadsIds.size).toBe(0); // threads are not tracked, as by Tracee's default

    // The bash process lists its live child by host pid.
    const bashInfo = tree.get(procKey(idOf(bash), at(3))).process_info.info;
    expect([...bashInfo.childProcessesIds]).toEqual([[1300, idOf(curl)]]);
    // Before curl started, it was not bash's live child.
    expect(tree.get(procKey(idOf(bash), at(1.7))).process_info.info.childProcessesIds.size).toBe(0);

    expect(tree.process(idOf(bash))).toEqual({
      uniqueId: idOf(bash),
      parentUniqueId: idOf(sshd),
      hostPid: 1200,
      pid: 1200,
      hostPpid: 800,
      ppid: 800,
      name: "bash",
      exe: "/usr/bin/bash",
      startTime: bash.start,
      exitTime: 0n,
      uid: 0,
      containerId: "",
      exited: false,
    });
    expect(tree.children(idOf(sshd)).map((p) => p.name)).toEqual(["bash"]);
  });

  it("gives a fork's child its parent's program until it execs", () => {
    const tree = new ProcessTreeDataSource();
    tree.observe(exec(bash, "/usr/bin/bash", at(1.5)));
    tree.observe(fork(bash, curl, { time: at(2) }));
    expect(tree.process(idOf(curl))).toMatchObject({ name: "bash", exe: "/usr/bin/bash", hostPpid: 1200, startTime: curl.start });
    tree.observe(exec(curl, "/usr/bin/curl", at(2.5)));
    expect(tree.process(idOf(curl))).toMatchObject({ name: "curl", exe: "/usr/bin/curl" });
  });

  it("answers ancestry as the process store's GetAncestry: the process, then parents, up to depth entries", () => {
    const tree = new ProcessTreeDataSource();
    lifecycle(tree);
    const chain = tree.ancestry(idOf(curl), 5);
    expect(chain.map((p) => [p.uniqueId, p.hostPid, p.pid, p.name, p.exe])).toEqual([
      [idOf(curl), 1300, 1300, "curl", "/usr/bin/curl"],
      [idOf(bash), 1200, 1200, "bash", "/usr/bin/bash"],
      [idOf(sshd), 800, 800, "sshd", "/usr/sbin/sshd"],
      [idOf(init), 1, 1, "init", "/sbin/init"],
    ]);
    expect(tree.ancestry(idOf(curl), 2).map((p) => p.name)).toEqual(["curl", "bash"]);
    expect(tree.ancestry(idOf(curl), 1).map((p) => p.name)).toEqual(["curl"]);
    expect(tree.ancestry(idOf(curl), 0)).toEqual([]);
    expect(tree.ancestry(12345, 5)).toEqual([]);
  });

  it("answers LineageKey as Tracee's data source: up to maxDepth parents, stopping at a namespace's init", () => {
    const tree = new ProcessTreeDataSource();
    lifecycle(tree);
    const { process_lineage } = tree.get(lineageKey(idOf(curl), 10, at(3)));
    expect(process_lineage.map((p) => p.info.pid)).toEqual([1300, 1200, 800, 1]);
    // Each parent as it was when its child started.
    expect(process_lineage.map((p) => p.timestamp)).toEqual([at(3), curl.start, bash.start, sshd.start]);
    expect(tree.get(lineageKey(idOf(curl), 1)).process_lineage.map((p) => p.info.pid)).toEqual([1300, 1200]);
    expect(tree.get(lineageKey(idOf(curl), 0)).process_lineage).toHaveLength(1);

    // In a container, the lineage stops at the container's init (ns pid 1).
    const shim: Task = { tid: 5000, start: at(10) };
    const cinit: Task = { tid: 5001, nsTid: 1, start: at(11) };
    const app: Task = { tid: 5002, nsTid: 7, start: at(12) };
    tree.observe(fork(shim, cinit));
    tree.observe(fork(cinit, app));
    expect(tree.get(lineageKey(idOf(app), 5)).process_lineage.map((p) => p.info.nsPid)).toEqual([7, 1]);
  });

  it("marks exits, keeps an exited process a while, then drops it", () => {
    const tree = new ProcessTreeDataSource({ exitedRetentionMs: 10_000 });
    lifecycle(tree);
    // A thread's exit does not end the process.
    tree.observe(exit(curl, at(3), 1301));
    expect(tree.process(idOf(curl))?.exited).toBe(false);
    tree.observe(exit(curl, at(4)));
    expect(tree.process(idOf(curl))).toMatchObject({ exited: true, exitTime: at(4) });
    expect(tree.get(procKey(idOf(curl), at(3.5))).process_info.info.isAlive).toBe(true);
    expect(tree.get(procKey(idOf(curl), at(5))).process_info.info.isAlive).toBe(false);
    expect(tree.get(procKey(idOf(bash), at(5))).process_info.info.childProcessesIds.size).toBe(0);

    tree.observe(buildEvent("openat", { timestamp: at(13), process: { hostPid: 1200, pid: 1200, entityId: idOf(bash), comm: "bash" } }));
    expect(tree.process(idOf(curl))).toBeDefined();
    tree.observe(buildEvent("openat", { timestamp: at(14.5), process: { hostPid: 1200, pid: 1200, entityId: idOf(bash), comm: "bash" } }));
    expect(tree.process(idOf(curl))).toBeUndefined();
    expect(thrown(() => tree.get(procKey(idOf(curl))))).toBe(ErrDataNotFound);
    expect(tree.stats()).toMatchObject({ entries: 3, expired: 1 });
  });

  it("keeps an exited parent while it has children in the tree, so lineages hold", () => {
    const tree = new ProcessTreeDataSource({ exitedRetentionMs: 1000 });
    lifecycle(tree);
    tree.observe(exit(bash, at(3))); // curl is orphaned but still running
    tree.observe(buildEvent("openat", { timestamp: at(10), process: { hostPid: 1300, pid: 1300, entityId: idOf(curl), comm: "curl" } }));
    expect(tree.ancestry(idOf(curl), 3).map((p) => [p.name, p.exited])).toEqual([
      ["curl", false],
      ["bash", true],
      ["sshd", false],
    ]);
    // Once curl is gone too, bash follows.
    tree.observe(exit(curl, at(11)));
    tree.observe(buildEvent("openat", { timestamp: at(13), process: { hostPid: 800, pid: 800, entityId: idOf(sshd) } }));
    expect(tree.process(idOf(curl))).toBeUndefined();
    expect(tree.process(idOf(bash))).toBeUndefined();
    expect(tree.stats()).toMatchObject({ entries: 2, expired: 2 });
  });

  it("does not make a process of a new thread", () => {
    const tree = new ProcessTreeDataSource();
    lifecycle(tree);
    const thread: Task = { tid: 1301, start: at(2.7) };
    tree.observe(fork(bash, thread, { leader: curl, time: at(2.7) }));
    expect(tree.stats().entries).toBe(4);
    expect(tree.process(hashTaskId(1301, thread.start))).toBeUndefined();
    expect(tree.process(idOf(curl))?.parentUniqueId).toBe(idOf(bash));
  });

  it("places a fork without the process-tree arguments under the forking process", () => {
    const tree = new ProcessTreeDataSource();
    tree.observe(
      buildEvent("sched_process_fork", {
        timestamp: at(2),
        process: { hostPid: 1200, pid: 1200, entityId: 777, comm: "bash", executable: "/usr/bin/bash" },
        data: { parent_tid: 1200, parent_pid: 1200, child_tid: 1300, child_pid: 1300, child_ns_pid: 1300, start_time: curl.start },
      }),
    );
    expect(tree.ancestry(idOf(curl), 5).map((p) => [p.uniqueId, p.name])).toEqual([
      [idOf(curl), "bash"],
      [777, "bash"],
    ]);
  });

  it("learns processes and parents from any event's workload", () => {
    const tree = new ProcessTreeDataSource();
    const dns = sample("net_packet_dns"); // systemd-resolve, its parent pid 1
    tree.observe(dns);
    expect(tree.ancestry(131662446, 5).map((p) => [p.uniqueId, p.hostPid, p.pid, p.name])).toEqual([
      [131662446, 472, 472, "systemd-resolve"],
      [1975426032, 1, 1, ""],
    ]);
    expect(tree.process(131662446)).toMatchObject({ hostPpid: 1, ppid: 1, uid: 976, startTime: 1695658999333342370n });

    // Ancestors a detector output carries link the whole chain; names and executables are kept.
    const ancestors: Process[] = [
      { uniqueId: 20, hostPid: 20, pid: 20, executable: { path: "/usr/bin/bash" }, thread: { name: "bash" } as Process["thread"], realUser: undefined, ancestors: [] },
      { uniqueId: 10, hostPid: 10, pid: 10, executable: undefined, thread: { name: "sshd" } as Process["thread"], realUser: undefined, ancestors: [] },
    ];
    tree.observe(buildEvent("openat", { process: { hostPid: 30, pid: 30, entityId: 30, comm: "cat", executable: "/usr/bin/cat", ancestors }, container: { id: "c1" } }));
    expect(tree.ancestry(30, 5).map((p) => [p.uniqueId, p.name, p.exe])).toEqual([
      [30, "cat", "/usr/bin/cat"],
      [20, "bash", "/usr/bin/bash"],
      [10, "sshd", ""],
    ]);
    expect(tree.process(30)?.containerId).toBe("c1");
    // Events with no entity id (unique_id 0) teach nothing.
    tree.observe(sample("sched_process_exec"));
    expect(tree.stats().entries).toBe(5);
  });

  it("reads only fork/exec/exit when fromWorkloads is off", () => {
    const tree = new ProcessTreeDataSource({ fromWorkloads: false });
    tree.observe(sample("net_packet_dns"));
    expect(tree.stats().entries).toBe(0);
    lifecycle(tree);
    expect(tree.ancestry(idOf(curl), 5)).toHaveLength(4);
  });

  it("throws ErrDataNotFound for an unknown process and ErrKeyNotSupported for other keys", () => {
    const tree = new ProcessTreeDataSource();
    lifecycle(tree);
    expect(errorIs(thrown(() => tree.get(procKey(4242))), ErrDataNotFound)).toBe(true);
    expect(errorIs(thrown(() => tree.get(lineageKey(4242, 3))), ErrDataNotFound)).toBe(true);
    // Threads are not tracked (Tracee's thread cache is off by default): nothing is found.
    expect(errorIs(thrown(() => tree.get(threadKey(idOf(curl)))), ErrDataNotFound)).toBe(true);
    for (const key of [idOf(curl), "curl", null, undefined, [idOf(curl)], { entityId: idOf(curl) }, { type: "ProcKey", entityId: 1 }]) {
      const err = thrown(() => tree.get(key as never));
      expect(errorIs(err, ErrKeyNotSupported), String(key)).toBe(true);
      expect(errorIs(err, ErrDataNotFound)).toBe(false);
    }
    expect(thrown(() => tree.get(procKey(-1))).message).toMatch(/entityId: expected an unsigned 32-bit integer, got -1/);
    expect(errorIs(thrown(() => tree.get(procKey(1, "now" as never))), ErrKeyNotSupported)).toBe(true);
    expect(errorIs(thrown(() => tree.get(lineageKey(1, 1.5))), ErrKeyNotSupported)).toBe(true);
    // Times may be a Date or a Timestamp too.
    const asDate = tree.get(procKey(idOf(curl), new Date(Number(at(3) / 1_000_000n)))).process_info;
    expect(asDate.timestamp).toBe(at(3));
    expect(tree.get(procKey(idOf(curl), { seconds: at(3) / SEC, nanos: 0 })).process_info.timestamp).toBe(at(3));
  });

  it("evicts the least recently active process, keeping an active process's ancestors", () => {
    const tree = new ProcessTreeDataSource({ maxEntries: 5 });
    lifecycle(tree); // 4 processes
    const other: Task = { tid: 2000, start: at(5) };
    tree.observe(fork(init, other));
    expect(tree.stats()).toMatchObject({ entries: 5, evictions: 0 });
    // curl is busy: it and its ancestors stay warm while new processes arrive.
    for (let i = 0; i < 3; i++) {
      tree.observe(buildEvent("openat", { timestamp: at(6 + i), process: { hostPid: 1300, pid: 1300, entityId: idOf(curl) } }));
      tree.observe(fork(init, { tid: 3000 + i, start: at(6 + i) }));
    }
    expect(tree.stats()).toMatchObject({ entries: 5, evictions: 3 });
    expect(tree.ancestry(idOf(curl), 5).map((p) => p.hostPid)).toEqual([1300, 1200, 800, 1]);
    expect(tree.process(idOf(other))).toBeUndefined();
  });

  it("never holds more than maxEntries processes, whatever the events (property)", () => {
    const task = fc.record({ tid: fc.integer({ min: 1, max: 40 }), start: fc.integer({ min: 0, max: 20 }) });
    const step = fc.oneof(
      fc.record({ kind: fc.constant("fork" as const), parent: task, child: task }),
      fc.record({ kind: fc.constant("exec" as const), task }),
      fc.record({ kind: fc.constant("exit" as const), task }),
      fc.record({ kind: fc.constant("event" as const), task, parent: fc.option(task, { nil: undefined }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(step, { maxLength: 60 }), (max, steps) => {
        const tree = new ProcessTreeDataSource({ maxEntries: max, exitedRetentionMs: 2000 });
        const t = (x: { tid: number; start: number }): Task => ({ tid: x.tid, start: T0 + BigInt(x.start) * SEC });
        steps.forEach((s, i) => {
          const time = at(i);
          switch (s.kind) {
            case "fork":
              tree.observe(fork(t(s.parent), t(s.child), { time }));
              break;
            case "exec":
              tree.observe(exec(t(s.task), "/bin/x", time));
              break;
            case "exit":
              tree.observe(exit(t(s.task), time));
              break;
            case "event": {
              const ancestors: Process[] =
                s.parent === undefined
                  ? []
                  : [{ uniqueId: idOf(t(s.parent)), hostPid: s.parent.tid, pid: s.parent.tid, realUser: undefined, ancestors: [] }];
              tree.observe(buildEvent("openat", { timestamp: time, process: { hostPid: s.task.tid, entityId: idOf(t(s.task)), ancestors } }));
              break;
            }
          }
          const stats = tree.stats();
          expect(stats.entries).toBeLessThanOrEqual(max);
          const chain = tree.ancestry(idOf(t("task" in s ? s.task : s.child)), 6);
          expect(chain.length).toBeLessThanOrEqual(6);
          expect(new Set(chain.map((p) => p.uniqueId)).size).toBe(chain.length);
        });
      }),
      { numRuns: 200 },
    );
  });

  it("rejects bad options", () => {
    expect(() => new ProcessTreeDataSource({ maxEntries: 0 })).toThrow(RangeError);
    expect(() => new ProcessTreeDataSource({ maxEntries: 1.5 })).toThrow(RangeError);
    expect(() => new ProcessTreeDataSource({ exitedRetentionMs: -1 })).toThrow(RangeError);
  });

  it("clears", () => {
    const tree = new ProcessTreeDataSource();
    lifecycle(tree);
    tree.clear();
    expect(tree.stats()).toEqual({ entries: 0, maxEntries: 32_768, evictions: 0, expired: 0 });
  });
});

// --- containers ---

function containerEvent(name: "container_create" | "existing_container", id: string, time: bigint): TraceeEvent {
  return buildEvent(name, {
    timestamp: time,
    data: [
      newValue("runtime", "str", "containerd"),
      newValue("container_id", "str", id),
      newValue("ctime", "int64", 1_699_999_000_000_000_000n), // Tracee derives it from CreatedAt.UnixNano(), an int64
      newValue("container_image", "str", "docker.io/library/nginx:latest"),
      newValue("container_image_digest", "str", "sha256:abc"),
      newValue("container_name", "str", "web"),
      newValue("pod_name", "str", "web-7d4b9"),
      newValue("pod_namespace", "str", "default"),
      newValue("pod_uid", "str", "0b1c-uid"),
      newValue("pod_sandbox", "bool", false),
    ],
  });
}

const removeEvent = (id: string, time: bigint) =>
  buildEvent("container_remove", { timestamp: time, data: { runtime: "containerd", container_id: id } });

describe("containers", () => {
  it("registers as Tracee's containers data source", () => {
    const ds = new ContainersDataSource();
    expect([ds.namespace(), ds.id(), ds.version(), ds.keys()]).toEqual(["tracee", "containers", 1, ["string"]]);
    expect(ds.schema()).toBe(
      '{"container_ctime":"int","container_id":"string","container_image":"string","container_name":"string",' +
        '"k8s_pod_id":"string","k8s_pod_name":"string","k8s_pod_namespace":"string","k8s_pod_sandbox":"bool"}',
    );
    expect(ds.events).toEqual(["container_create", "container_remove", "existing_container"]);
    expect([containersRef.namespace, containersRef.id]).toEqual(["tracee", "containers"]);
  });

  it("learns containers from workloads", () => {
    const ds = new ContainersDataSource();
    ds.observe(sample("sched_process_exec")); // the host: nothing
    ds.observe(sample("net_packet_dns"));
    expect(ds.stats().entries).toBe(0);
    const kubectl = fixture.filter((e) => e.name === "sched_process_exec")[1] as TraceeEvent;
    ds.observe(kubectl);
    expect(ds.get("test-container-123")).toEqual({
      container_id: "test-container-123",
      container_ctime: 0n,
      container_name: "",
      container_image: "",
      k8s_pod_id: "",
      k8s_pod_name: "",
      k8s_pod_namespace: "",
      k8s_pod_sandbox: false,
    });
    ds.observe(
      buildEvent("openat", {
        container: { id: "abc", name: "api", image: { id: "", name: "api:1.2", repoDigests: ["sha256:def"] }, started: true },
        k8s: { pod: { name: "api-0", uid: "pod-uid", labels: {} }, namespace: { name: "prod" } },
      }),
    );
    expect(ds.get("abc")).toMatchObject({ container_name: "api", container_image: "api:1.2", k8s_pod_id: "pod-uid", k8s_pod_name: "api-0", k8s_pod_namespace: "prod" });
    expect(ds.container("abc")).toEqual({
      id: "abc",
      name: "api",
      image: "api:1.2",
      imageDigest: "sha256:def",
      runtime: "",
      startTime: 0n,
      pod: { name: "api-0", uid: "pod-uid", namespace: "prod", sandbox: false },
      started: true,
      removed: false,
    });
    expect(ds.containerByName("api")?.id).toBe("abc");
    expect(ds.containerByName("nope")).toBeUndefined();
  });

  it("takes the full facts from container_create and existing_container", () => {
    const ds = new ContainersDataSource();
    ds.observe(containerEvent("container_create", "c1", at(0)));
    ds.observe(containerEvent("existing_container", "c2", at(0)));
    for (const id of ["c1", "c2"]) {
      expect(ds.get(id)).toEqual({
        container_id: id,
        container_ctime: 1_699_999_000_000_000_000n,
        container_name: "web",
        container_image: "docker.io/library/nginx:latest",
        k8s_pod_id: "0b1c-uid",
        k8s_pod_name: "web-7d4b9",
        k8s_pod_namespace: "default",
        k8s_pod_sandbox: false,
      });
    }
    expect(ds.container("c1")).toMatchObject({ runtime: "containerd", imageDigest: "sha256:abc", startTime: 1_699_999_000_000_000_000n });
    // A later workload with less to say keeps what the event said.
    ds.observe(buildEvent("openat", { container: { id: "c1" } }));
    expect(ds.get("c1").container_image).toBe("docker.io/library/nginx:latest");
  });

  it("keeps a removed container for a while (Tracee's 30 s), then forgets it", () => {
    const ds = new ContainersDataSource();
    ds.observe(containerEvent("container_create", "c1", at(0)));
    ds.observe(containerEvent("container_create", "c2", at(0)));
    ds.observe(removeEvent("c1", at(10)));
    expect(ds.get("c1").container_id).toBe("c1");
    expect(ds.container("c1")?.removed).toBe(true);
    expect(ds.list().map((c) => c.id)).toEqual(["c2"]);
    ds.observe(buildEvent("openat", { timestamp: at(39) }));
    expect(ds.container("c1")).toBeDefined();
    ds.observe(buildEvent("openat", { timestamp: at(40.5) }));
    expect(errorIs(thrown(() => ds.get("c1")), ErrDataNotFound)).toBe(true);
    expect(ds.stats()).toEqual({ entries: 1, maxEntries: 4096, evictions: 0, expired: 1 });
    // Removing an unknown container changes nothing.
    ds.observe(removeEvent("zzz", at(41)));
    expect(ds.stats().entries).toBe(1);
  });

  it("throws ErrKeyNotSupported for a non-string key and ErrDataNotFound for an unknown id", () => {
    const ds = new ContainersDataSource();
    ds.observe(containerEvent("container_create", "c1", at(0)));
    expect(thrown(() => ds.get("nope"))).toBe(ErrDataNotFound);
    expect(errorIs(thrown(() => ds.get("")), ErrDataNotFound)).toBe(true);
    for (const key of [1, null, undefined, { id: "c1" }, ["c1"]]) {
      expect(errorIs(thrown(() => ds.get(key as never)), ErrKeyNotSupported)).toBe(true);
    }
  });

  it("brings back, fresh, a container an event cites after its removal expired", () => {
    // Found by the property below: the sweep ran after the event and dropped the container it had just seen.
    const ds = new ContainersDataSource({ maxEntries: 1, removedRetentionMs: 3000 });
    ds.observe(buildEvent("openat", { timestamp: at(0), container: { id: "c8" } }));
    ds.observe(removeEvent("c8", at(1)));
    ds.observe(buildEvent("openat", { timestamp: at(2), container: { id: "c8" } }));
    expect(ds.get("c8").container_id).toBe("c8"); // removed 1 s ago: still kept
    ds.observe(buildEvent("openat", { timestamp: at(4), container: { id: "c8" } }));
    expect(ds.get("c8").container_id).toBe("c8");
    expect(ds.stats()).toMatchObject({ entries: 1, expired: 1 });
    expect(ds.list().map((c) => c.id)).toEqual(["c8"]); // alive again, not marked removed
  });

  it("never holds more than maxEntries containers, evicting the least recently seen (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.record({ id: fc.integer({ min: 0, max: 15 }), kind: fc.constantFrom("workload", "create", "remove") }), { maxLength: 80 }),
        (max, steps) => {
          const ds = new ContainersDataSource({ maxEntries: max, removedRetentionMs: 3000 });
          let last = "";
          steps.forEach((s, i) => {
            const id = `c${s.id}`;
            const time = at(i);
            if (s.kind === "workload") ds.observe(buildEvent("openat", { timestamp: time, container: { id } }));
            else if (s.kind === "create") ds.observe(containerEvent("container_create", id, time));
            else ds.observe(removeEvent(id, time));
            expect(ds.stats().entries).toBeLessThanOrEqual(max);
            if (s.kind !== "remove") last = id;
            // The container just seen is never the one evicted.
            if (s.kind !== "remove") expect(ds.get(last).container_id).toBe(last);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

// --- dns ---

type RR = DNS["answers"][number];
function rr(name: string, type: string, value: Partial<RR>, ttl = 300): RR {
  return {
    name,
    type,
    class: "IN",
    ttl,
    ip: "",
    ns: "",
    cname: "",
    ptr: "",
    txts: [],
    soa: undefined,
    srv: undefined,
    mx: undefined,
    opt: [],
    uri: undefined,
    txt: "",
    ...value,
  };
}

function dnsEvent(question: string, answers: readonly RR[], options: { time?: bigint; type?: string; qr?: number } = {}): TraceeEvent {
  const dns: DNS = {
    id: 1,
    qr: options.qr ?? 1,
    opCode: "query",
    aa: 0,
    tc: 0,
    rd: 1,
    ra: 1,
    z: 0,
    responseCode: "no error",
    qdCount: 1,
    anCount: answers.length,
    nsCount: 0,
    arCount: 0,
    questions: [{ name: question, type: options.type ?? "A", class: "IN" }],
    answers: [...answers],
    authorities: [],
    additionals: [],
  };
  return buildEvent("net_packet_dns", {
    timestamp: options.time ?? at(0),
    data: [newValue("src", "str", "8.8.8.8"), newValue("dst", "str", "10.0.0.2"), newValue("proto_dns", "dns", dns)],
  });
}

describe("dns", () => {
  it("registers as Tracee's dns data source", () => {
    const ds = new DnsDataSource();
    expect([ds.namespace(), ds.id(), ds.version(), ds.keys()]).toEqual(["tracee", "dns", 1, ["string"]]);
    expect(ds.schema()).toBe('{"dns_queries":"[]string","dns_root":"string","ip_addresses":"[]string"}');
    expect(ds.events).toEqual(["net_packet_dns"]);
    expect([dnsRef.namespace, dnsRef.id]).toEqual(["tracee", "dns"]);
  });

  it("caches the sample response: the query and its CNAME, both ways", () => {
    const ds = new DnsDataSource();
    ds.observe(sample("net_packet_dns")); // www.zip.net AAAA → CNAME amazonas.uol.com.br
    const byQuery = { ip_addresses: [], dns_queries: ["www.zip.net", "amazonas.uol.com.br"], dns_root: "www.zip.net" };
    expect(ds.get("www.zip.net")).toEqual(byQuery);
    expect(ds.get("amazonas.uol.com.br")).toEqual(byQuery);
    expect(ds.response("amazonas.uol.com.br")).toEqual({ query: "amazonas.uol.com.br", ips: [], domains: ["www.zip.net", "amazonas.uol.com.br"] });
    expect(ds.stats()).toEqual({ entries: 2, maxEntries: 8192, evictions: 0, expired: 0, roots: 1 });
    // Authorities and additionals are not answers.
    expect(errorIs(thrown(() => ds.get("uol.com.br")), ErrDataNotFound)).toBe(true);
  });

  it("links addresses to the query through CNAMEs (an address → its domains)", () => {
    const ds = new DnsDataSource();
    ds.observe(
      dnsEvent("api.example.com", [
        rr("api.example.com", "CNAME", { cname: "lb.example.net" }),
        rr("lb.example.net", "A", { ip: "203.0.113.7" }, 60),
        rr("lb.example.net", "A", { ip: "203.0.113.8" }, 60),
      ]),
    );
    expect(ds.get("203.0.113.7")).toEqual({
      ip_addresses: ["203.0.113.7"],
      dns_queries: ["api.example.com", "lb.example.net"],
      dns_root: "api.example.com",
    });
    expect(ds.get("api.example.com")).toEqual({
      ip_addresses: ["203.0.113.7", "203.0.113.8"],
      dns_queries: ["api.example.com", "lb.example.net"],
      dns_root: "api.example.com",
    });
    // A second response for the CNAME target adds under it.
    ds.observe(dnsEvent("lb.example.net", [rr("lb.example.net", "AAAA", { ip: "2001:db8::7" })]));
    expect(ds.get("2001:db8::7").dns_root).toBe("api.example.com");
    // MX and SRV answers link names.
    ds.observe(dnsEvent("example.com", [rr("example.com", "MX", { mx: { Preference: 10, name: "mail.example.com" } })], { type: "MX" }));
    expect(ds.get("mail.example.com").dns_queries).toEqual(["example.com", "mail.example.com"]);
  });

  it("expires answers after their TTL, in event time; queries stay", () => {
    const ds = new DnsDataSource();
    ds.observe(dnsEvent("short.example", [rr("short.example", "A", { ip: "192.0.2.1" }, 30)], { time: at(0) }));
    ds.observe(buildEvent("openat", { timestamp: at(29) }));
    expect(ds.get("192.0.2.1").dns_root).toBe("short.example");
    ds.observe(buildEvent("openat", { timestamp: at(31) }));
    expect(errorIs(thrown(() => ds.get("192.0.2.1")), ErrDataNotFound)).toBe(true);
    expect(ds.response("192.0.2.1")).toBeUndefined();
    expect(ds.get("short.example").dns_queries).toEqual(["short.example"]);
    // A new response refreshes the TTL.
    ds.observe(dnsEvent("short.example", [rr("short.example", "A", { ip: "192.0.2.1" }, 30)], { time: at(40) }));
    expect(ds.get("192.0.2.1").ip_addresses).toEqual(["192.0.2.1"]);
  });

  it("indexes reverse lookups without their suffix, as Tracee does", () => {
    const ds = new DnsDataSource();
    ds.observe(dnsEvent("7.113.0.203.in-addr.arpa", [rr("7.113.0.203.in-addr.arpa", "PTR", { ptr: "host.example.com" })], { type: "PTR" }));
    const expected = { ip_addresses: ["7.113.0.203"], dns_queries: ["host.example.com"], dns_root: "host.example.com" };
    expect(ds.get("7.113.0.203.in-addr.arpa")).toEqual(expected);
    expect(ds.get("7.113.0.203")).toEqual(expected);
    expect(ds.get("host.example.com")).toEqual(expected);
  });

  it("ignores requests and malformed responses, and survives cycles", () => {
    const ds = new DnsDataSource();
    ds.observe(dnsEvent("q.example", [], { qr: 1 }));
    ds.observe(dnsEvent("q.example", [rr("q.example", "A", { ip: "192.0.2.9" })], { qr: 0 }));
    ds.observe(sample("net_packet_dns_request"));
    expect(ds.stats().entries).toBe(0);
    // a → b, then b → a: a loop of CNAMEs must not hang a lookup.
    ds.observe(dnsEvent("a.example", [rr("a.example", "CNAME", { cname: "b.example" })]));
    ds.observe(dnsEvent("b.example", [rr("b.example", "CNAME", { cname: "a.example" }), rr("b.example", "CNAME", { cname: "b.example" })]));
    expect(ds.get("b.example").dns_queries).toEqual(["a.example", "b.example"]);
    expect(ds.get("a.example").dns_queries).toEqual(["a.example", "b.example"]);
  });

  it("throws ErrKeyNotSupported for a non-string key and ErrDataNotFound for an unknown name", () => {
    const ds = new DnsDataSource();
    expect(thrown(() => ds.get("unknown.example"))).toBe(ErrDataNotFound);
    for (const key of [1, null, undefined, { name: "x" }, ["x"]]) {
      expect(errorIs(thrown(() => ds.get(key as never)), ErrKeyNotSupported)).toBe(true);
    }
  });

  it("never holds more than maxEntries names and addresses, dropping the least recently used query (property)", () => {
    const name = fc.integer({ min: 0, max: 12 }).map((n) => `n${n}.example`);
    const answer = fc.oneof(
      fc.record({ type: fc.constant("CNAME"), to: name }),
      fc.record({ type: fc.constant("A"), to: fc.integer({ min: 0, max: 12 }).map((n) => `192.0.2.${n}`) }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.record({ question: name, answers: fc.array(answer, { minLength: 1, maxLength: 4 }) }), { maxLength: 40 }),
        (max, responses) => {
          const ds = new DnsDataSource({ maxEntries: max });
          responses.forEach((r, i) => {
            const answers = r.answers.map((a) => (a.type === "A" ? rr(r.question, "A", { ip: a.to }) : rr(r.question, "CNAME", { cname: a.to })));
            ds.observe(dnsEvent(r.question, answers, { time: at(i) }));
            expect(ds.stats().entries).toBeLessThanOrEqual(max);
            for (const a of r.answers) {
              try {
                const got = ds.get(a.to);
                expect(got.dns_root).toBe(got.dns_queries[0] ?? "");
              } catch (err) {
                expect(errorIs(err, ErrDataNotFound)).toBe(true);
              }
            }
          });
        },
      ),
      { numRuns: 200 },
    );
    // Eviction drops the oldest query with what it resolved.
    const ds = new DnsDataSource({ maxEntries: 4 });
    ds.observe(dnsEvent("old.example", [rr("old.example", "A", { ip: "192.0.2.1" })]));
    ds.observe(dnsEvent("new.example", [rr("new.example", "A", { ip: "192.0.2.2" })]));
    expect(ds.stats()).toMatchObject({ entries: 4, roots: 2, evictions: 0 });
    ds.get("old.example"); // a lookup makes old.example the most recently used
    ds.observe(dnsEvent("newer.example", [rr("newer.example", "A", { ip: "192.0.2.3" })]));
    expect(ds.stats()).toMatchObject({ entries: 4, roots: 2, evictions: 2 });
    expect(ds.response("new.example")).toBeUndefined();
    expect(ds.response("192.0.2.2")).toBeUndefined();
    expect(ds.get("192.0.2.1").dns_root).toBe("old.example");
  });
});

describe("builtinDataSources", () => {
  it("makes all three, observes for all, and passes options on", () => {
    const builtins = builtinDataSources({ processTree: { maxEntries: 100 }, dns: { maxEntries: 10 } });
    expect(builtins.all.map((ds) => `${ds.namespace()}/${ds.id()}`)).toEqual(["tracee/process_tree", "tracee/containers", "tracee/dns"]);
    expect(builtins.all).toEqual([builtins.processTree, builtins.containers, builtins.dns]);
    expect(builtins.events).toEqual([
      "sched_process_fork",
      "sched_process_exec",
      "sched_process_exit",
      "container_create",
      "container_remove",
      "existing_container",
      "net_packet_dns",
    ]);
    for (const event of fixture) builtins.observe(event);
    expect(builtins.processTree.stats()).toMatchObject({ maxEntries: 100 });
    expect(builtins.processTree.process(131662446)?.name).toBe("systemd-resolve");
    expect(builtins.containers.get("test-container-123").container_id).toBe("test-container-123");
    expect(builtins.dns.get("www.zip.net").dns_root).toBe("www.zip.net");
    expect(builtins.dns.stats().maxEntries).toBe(10);
    expect(() => builtinDataSources({ containers: { maxEntries: -1 } })).toThrow(RangeError);
  });

  it("registers under Tracee's names, so ported signatures find them", () => {
    const builtins = builtinDataSources();
    const registry = new DataSourceRegistry();
    for (const ds of builtins.all) registry.register(ds);
    builtins.observe(sample("net_packet_dns"));
    expect(registry.get("tracee", "process_tree")?.get(procKey(131662446))).toMatchObject({ process_info: { info: { pid: 472 } } });
    expect(registry.get(processTreeRef)?.ancestry(131662446, 5)).toHaveLength(2);
    expect(registry.get("tracee", "dns")?.get("amazonas.uol.com.br")).toMatchObject({ dns_root: "www.zip.net" });
    expect(registry.get(containersRef)).toBe(builtins.containers);
    expect(registry.get(dnsRef)).toBe(builtins.dns);
  });
});
