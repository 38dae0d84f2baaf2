// The legacy signature adapter: Tracee's selector matching, the delivered
// legacy event, findings turned into v1beta1 events the way Tracee's
// FindingToEvent + ConvertToProto do (checked against Tracee's own finding
// lines in test/fixtures/events/legacy.ndjson), the source-complete signal,
// and the threshold example signature running through it.
import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { DataSourceRegistry } from "../../src/detect/registry.js";
import type {
  Event,
  Finding,
  GetDataSource,
  Logger,
  Signal,
  Signature,
  SignatureContext,
  SignatureEventSelector,
  SignatureMetadata,
} from "../../src/detect/signature.js";
import type { Participant } from "../../src/engine/participant.js";
import { isSignalSourceComplete, SOURCE_COMPLETE_TRACEE, signalSourceComplete } from "tracee-ds";
import { adaptSignature, signatureEventIds, START_SIGNATURE_ID } from "../../src/engine/signature-adapter.js";
import {
  decodeLegacyEventJson,
  type LegacyEvent,
  legacySignatureEvent,
  legacyToEvent,
} from "../../src/events/legacy/index.js";
import { EventId, SaFamily, Severity, type TraceeEvent } from "../../src/events/model.js";
import { buildEvent } from "../../src/testing/build-event.js";
import { fakeDataSource } from "../../src/testing/fakes.js";
import { ExcessiveFileOpens } from "../../examples/threshold/signature.js";
import { THRESHOLD_ID, THRESHOLD_NAMESPACE } from "../../examples/threshold/threshold-datasource.js";

const LINES = readFileSync(new URL("../fixtures/events/legacy.ndjson", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "");
const line = (i: number): LegacyEvent => decodeLegacyEventJson(LINES[i]!);

// ---------------------------------------------------------------------------
// Helpers

interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly keyvals: unknown[];
}

function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (msg: string, ...keyvals: unknown[]) => {
      lines.push({ level, msg, keyvals });
    };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

const META: SignatureMetadata = {
  id: "TRC-T",
  version: "1",
  name: "Test signature",
  eventName: "test_finding",
  description: "A test",
  properties: { Severity: 3, Category: "execution", Technique: "Command", external_id: "T1059", id: "attack-pattern--x" },
};

type OnEvent = (sig: TestSignature, event: Event<LegacyEvent>) => void | Promise<void>;

/** A signature whose selectors, metadata and onEvent the test sets; records what it gets. */
class TestSignature implements Signature<LegacyEvent> {
  ctx: SignatureContext | undefined;
  readonly events: Event<LegacyEvent>[] = [];
  readonly signals: Signal[] = [];
  closed = 0;
  onSignalReport = false;

  constructor(
    readonly selectors: readonly SignatureEventSelector[],
    readonly onEventFn: OnEvent = () => {},
    readonly metadata: SignatureMetadata = META,
  ) {}

  getMetadata(): SignatureMetadata {
    return this.metadata;
  }
  getSelectedEvents(): readonly SignatureEventSelector[] {
    return this.selectors;
  }
  init(ctx: SignatureContext): void {
    this.ctx = ctx;
  }
  onEvent(event: Event<LegacyEvent>): void | Promise<void> {
    this.events.push(event);
    return this.onEventFn(this, event);
  }
  onSignal(signal: Signal): void {
    this.signals.push(signal);
    if (this.onSignalReport && isSignalSourceComplete(signal) && this.events[0] !== undefined) {
      this.report(this.events[0], { message: "done" });
    }
  }
  close(): void {
    this.closed++;
  }
  report(event: Event<LegacyEvent>, data: Record<string, unknown>): void {
    this.ctx!.callback({ data, event, sigMetadata: this.metadata });
  }
}

const registry = new DataSourceRegistry();
const getDataSource = registry.context({ callback: () => {} }).getDataSource;

interface Adapted {
  readonly participant: Participant;
  readonly emitted: TraceeEvent[];
  readonly logger: ReturnType<typeof recordingLogger>;
}

async function adapt(
  signature: Signature<LegacyEvent>,
  options: { eventIdFor?: (name: string) => number | undefined; getDataSource?: GetDataSource } = {},
): Promise<Adapted> {
  const logger = recordingLogger();
  const participant = adaptSignature(signature, {
    getDataSource: options.getDataSource ?? getDataSource,
    logger,
    ...(options.eventIdFor === undefined ? {} : { eventIdFor: options.eventIdFor }),
  });
  const emitted: TraceeEvent[] = [];
  await participant.init((events) => emitted.push(...events));
  return { participant, emitted, logger };
}

const sel = (name: string, origin?: string, source = "tracee"): SignatureEventSelector =>
  origin === undefined ? { source, name } : { source, name, origin };

const hostEvent = (name = "openat") => buildEvent(name, { timestamp: 1_000_000_123n });
const initEvent = (name = "openat") => buildEvent(name, { container: { id: "c0ffee", started: false } });
const containerEvent = (name = "openat") => buildEvent(name, { container: { id: "c0ffee", started: true } });

/** Whether the participant takes the event (handle returns an array, not undefined). */
async function takes(p: Participant, event: TraceeEvent): Promise<boolean> {
  return (await p.handle(event)) !== undefined;
}

/** The signature metadata behind a finding line of the fixture, as the signature declared it. */
function metadataOf(legacy: LegacyEvent): SignatureMetadata {
  const m = legacy.metadata!;
  const { signatureID, signatureName, ...properties } = m.Properties;
  return {
    id: String(signatureID),
    version: m.Version,
    name: String(signatureName),
    eventName: legacy.eventName,
    description: m.Description,
    tags: m.Tags,
    properties,
  };
}

// ---------------------------------------------------------------------------

describe("adaptSignature: selectors", () => {
  it("an exact selector takes that name from that origin only, and names it in eventNames", async () => {
    const sig = new TestSignature([sel("openat", "host")]);
    const { participant } = await adapt(sig);
    expect(participant).toMatchObject({ id: "TRC-T", kind: "signature", eventNames: ["openat"], produces: ["test_finding"] });
    expect(await participant.handle(hostEvent())).toEqual([]);
    expect(await participant.handle(containerEvent())).toBeUndefined();
    expect(await participant.handle(hostEvent("execve"))).toBeUndefined();
    expect(sig.events).toHaveLength(1);
    expect(sig.events[0]!.headers.selector).toEqual({ source: "tracee", name: "openat", origin: "host" });
  });

  it('a "*" or empty name takes every event name (eventNames "*")', async () => {
    for (const name of ["*", ""]) {
      const { participant } = await adapt(new TestSignature([sel(name, "*")]));
      expect(participant.eventNames).toBe("*");
      expect(await takes(participant, hostEvent("openat"))).toBe(true);
      expect(await takes(participant, containerEvent("anything_at_all"))).toBe(true);
    }
  });

  it("an empty or missing origin means every origin", async () => {
    for (const selector of [sel("openat", ""), sel("openat")]) {
      const { participant } = await adapt(new TestSignature([selector]));
      for (const e of [hostEvent(), initEvent(), containerEvent()]) expect(await takes(participant, e)).toBe(true);
    }
  });

  it("origin container, container-init and host are told apart as legacyOrigin does", async () => {
    const events = { host: hostEvent(), "container-init": initEvent(), container: containerEvent() };
    for (const origin of ["host", "container-init", "container"] as const) {
      const sig = new TestSignature([sel("openat", origin)]);
      const { participant } = await adapt(sig);
      for (const [o, e] of Object.entries(events)) expect(await takes(participant, e)).toBe(o === origin);
      expect(sig.events[0]!.headers.selector.origin).toBe(origin);
    }
  });

  it('{ name: "*", origin } takes every name from that origin only', async () => {
    const { participant } = await adapt(new TestSignature([sel("*", "container")]));
    expect(participant.eventNames).toBe("*");
    expect(await takes(participant, containerEvent("execve"))).toBe(true);
    expect(await takes(participant, initEvent("execve"))).toBe(false);
    expect(await takes(participant, hostEvent("execve"))).toBe(false);
  });

  it("a selector with an empty source is logged and ignored, one with another source never matches", async () => {
    const sig = new TestSignature([sel("openat", "*", ""), sel("execve", "*", "other"), sel("close", "host")]);
    const { participant, logger } = await adapt(sig);
    expect(participant.eventNames).toEqual(["close"]);
    expect(logger.lines).toContainEqual({ level: "error", msg: "Signature Test signature doesn't declare an input source", keyvals: [] });
    expect(await takes(participant, hostEvent("openat"))).toBe(false);
    expect(await takes(participant, hostEvent("execve"))).toBe(false);
    expect(await takes(participant, hostEvent("close"))).toBe(true);
  });

  it("an event several selectors match is delivered once", async () => {
    const sig = new TestSignature([sel("openat", "host"), sel("openat", "*"), sel("*", "host"), sel("*")]);
    const { participant } = await adapt(sig);
    expect(participant.eventNames).toBe("*");
    await participant.handle(hostEvent());
    expect(sig.events).toHaveLength(1);
  });

  it("builds the legacy event once per input event, shared by every signature", async () => {
    const a = new TestSignature([sel("openat")]);
    const b = new TestSignature([sel("*")]);
    const pa = (await adapt(a)).participant;
    const pb = (await adapt(b)).participant;
    const event = buildEvent("openat", { data: { pathname: "/etc/shadow" }, container: { id: "c0ffee" } });
    await pa.handle(event);
    await pb.handle(event);
    expect(a.events[0]).toBe(b.events[0]);
    expect(a.events[0]).toEqual(legacySignatureEvent(event));
    expect(a.events[0]!.payload.args).toEqual([{ name: "pathname", type: "const char*", value: "/etc/shadow" }]);
    await pa.handle(buildEvent("openat"));
    expect(a.events[1]).not.toBe(a.events[0]);
  });
});

describe("adaptSignature: findings", () => {
  it("returns the findings reported synchronously during onEvent, in order", async () => {
    const sig = new TestSignature([sel("openat")], (s, e) => {
      s.report(e, { n: 1 });
      s.report(e, { n: 2 });
    });
    const { participant, emitted } = await adapt(sig);
    const out = participant.handle(hostEvent());
    expect(Array.isArray(out)).toBe(true); // sync when onEvent is
    expect((out as TraceeEvent[]).map((o) => o.data)).toEqual([[{ name: "n", int64: 1n }], [{ name: "n", int64: 2n }]]);
    expect(emitted).toEqual([]);
  });

  it("returns the findings an async onEvent reports before it settles; later ones go to emit", async () => {
    let late: (() => void) | undefined;
    const sig = new TestSignature([sel("openat")], async (s, e) => {
      await new Promise((r) => setTimeout(r, 5));
      s.report(e, { when: "during" });
      late = () => s.report(e, { when: "after" });
    });
    const { participant, emitted } = await adapt(sig);
    const out = participant.handle(hostEvent());
    expect(out).toBeInstanceOf(Promise);
    expect((await out)!.map((o) => o.data)).toEqual([[{ name: "when", str: "during" }]]);
    expect(emitted).toEqual([]);
    late!();
    expect(emitted.map((o) => o.data)).toEqual([[{ name: "when", str: "after" }]]);
  });

  it("sends findings from a timer after onEvent returned to emit", async () => {
    const sig = new TestSignature([sel("openat")], (s, e) => {
      setTimeout(() => s.report(e, { late: true }), 1);
    });
    const { participant, emitted } = await adapt(sig);
    expect(participant.handle(hostEvent())).toEqual([]);
    await vi.waitFor(() => expect(emitted).toHaveLength(1));
    expect(emitted[0]!.data).toEqual([{ name: "late", bool: true }]);
  });

  it("attributes findings of overlapping async calls to the call of the finding's event", async () => {
    const gates: Array<() => void> = [];
    const sig = new TestSignature([sel("openat")], async (s, e) => {
      await new Promise<void>((r) => gates.push(r));
      s.report(e, { pid: e.payload.processId });
    });
    const { participant } = await adapt(sig);
    const first = participant.handle(buildEvent("openat", { process: { pid: 1 } }));
    const second = participant.handle(buildEvent("openat", { process: { pid: 2 } }));
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    gates[0]!();
    gates[1]!();
    expect((await first)!.map((o) => o.data)).toEqual([[{ name: "pid", int64: 1n }]]);
    expect((await second)!.map((o) => o.data)).toEqual([[{ name: "pid", int64: 2n }]]);
  });

  it("converts the data at report time: later changes to the data object do not show", async () => {
    const sig = new TestSignature([sel("openat")], (s, e) => {
      const data: Record<string, unknown> = { v: "first" };
      s.report(e, data);
      data["v"] = "second";
    });
    const { participant } = await adapt(sig);
    expect(((await participant.handle(hostEvent())) ?? [])[0]!.data).toEqual([{ name: "v", str: "first" }]);
  });

  it("a throw in onEvent propagates (sync and async); findings reported before it go to emit", async () => {
    const boom = new Error("boom");
    const sync = new TestSignature([sel("openat")], (s, e) => {
      s.report(e, { before: 1 });
      throw boom;
    });
    const a = await adapt(sync);
    expect(() => a.participant.handle(hostEvent())).toThrow(boom);
    expect(a.emitted.map((o) => o.data)).toEqual([[{ name: "before", int64: 1n }]]);

    let calls = 0;
    const async = new TestSignature([sel("openat")], async () => {
      await Promise.resolve();
      if (++calls === 1) throw boom;
    });
    const b = await adapt(async);
    await expect(b.participant.handle(hostEvent())).rejects.toBe(boom);
    // The adapter is still usable afterwards.
    expect(await b.participant.handle(hostEvent())).toEqual([]);
  });

  it("uses eventIdFor, 6000 by default, and drops a finding whose event name has no id", async () => {
    const report: OnEvent = (s, e) => s.report(e, {});
    expect((await (await adapt(new TestSignature([sel("*")], report))).participant.handle(hostEvent()))![0]!.id).toBe(6000);
    const custom = await adapt(new TestSignature([sel("*")], report), { eventIdFor: (n) => (n === "test_finding" ? 6042 : undefined) });
    expect((await custom.participant.handle(hostEvent()))![0]!.id).toBe(6042);

    const other = new TestSignature([sel("*")], (s, e) =>
      s.ctx!.callback({ data: {}, event: e, sigMetadata: { ...META, eventName: "someone_elses" } }),
    );
    const { participant, logger } = await adapt(other);
    expect(await participant.handle(hostEvent())).toEqual([]);
    expect(logger.lines).toContainEqual({ level: "error", msg: "error finding event not found: someone_elses", keyvals: [] });
  });

  it("signatureEventIds numbers event names from 6000 in signature order, as Tracee's allocateEventIdsForSigs", () => {
    const m = (eventName: string): SignatureMetadata => ({ ...META, eventName });
    const ids = signatureEventIds([
      new TestSignature([], undefined, m("a")),
      new TestSignature([], undefined, m("b")),
      new TestSignature([], undefined, m("a")),
    ]);
    expect([ids("a"), ids("b"), ids("c")]).toEqual([6002, 6001, undefined]);
    expect(START_SIGNATURE_ID).toBe(6000);
    expect(signatureEventIds([new TestSignature([], undefined, m("x"))], 7000)("x")).toBe(7000);
  });

  it("takes timestamp, workload and policies from the finding's event, not the one being handled", async () => {
    let first: Event<LegacyEvent> | undefined;
    const sig = new TestSignature([sel("*")], (s, e) => {
      first ??= e;
      if (e !== first) s.report(first, { stale: true });
    });
    const { participant } = await adapt(sig);
    const a = buildEvent("openat", { process: { pid: 1 }, policies: ["p1"], timestamp: 1n });
    const b = buildEvent("openat", { process: { pid: 2 }, policies: ["p2"], timestamp: 2n });
    await participant.handle(a);
    const [out] = (await participant.handle(b))!;
    expect(out!.timestamp).toEqual(a.timestamp);
    expect(out!.workload).toBe(a.workload);
    expect(out!.policies).toEqual({ matched: ["p1"] });
  });

  it("converts a finding whose event is a copy or its own legacy event; drops one without an event or with another payload", async () => {
    const own = line(0);
    const sig = new TestSignature([sel("*")], (s, e) => {
      s.report({ ...e, payload: { ...e.payload } }, { kind: "copy" });
      s.report({ headers: e.headers, payload: own }, { kind: "own" });
      s.ctx!.callback({ data: { kind: "none" } } as unknown as Finding);
      s.ctx!.callback({ data: { kind: "other" }, event: { headers: e.headers, payload: { pid: 1 } }, sigMetadata: META });
    });
    const { participant, logger } = await adapt(sig);
    const input = buildEvent("openat", { data: { pathname: "/x" }, process: { pid: 7, comm: "cat" } });
    const out = (await participant.handle(input))!;
    expect(out.map((o) => o.data[0]!.str)).toEqual(["copy", "own"]);
    expect(out[0]!.workload?.process?.pid).toBe(7);
    expect(out[1]!.workload).toEqual(legacyToEvent(own).workload);
    expect(logger.lines.map((l) => [l.level, l.msg])).toEqual([
      ["debug", "Finding without an event dropped"],
      ["error", "error converting finding to event: TRC-T"],
    ]);
  });

  it("turns data into event values with the kinds Tracee's parseArgument gives the Go values", async () => {
    const data: Record<string, unknown> = {
      s: "text",
      b: true,
      n: 42,
      neg: -7,
      f: 1.5,
      big: 2n ** 63n,
      nbig: -5n,
      nil: null,
      undef: undefined,
      bytes: new Uint8Array([1, 2, 3]),
      date: new Date(1500),
      strs: ["a", "b"],
      none: [],
      u64s: [1n, 2n],
      objs: [{ a: 1 }, { b: "x" }],
      fds: { toMap: () => ({ k: "v", n: 2n }) },
      inet: { sa_family: "AF_INET", sin_addr: "10.0.0.1", sin_port: "443" },
      inet6: { sa_family: "AF_INET6", sin6_addr: "::1", sin6_port: "80", sin6_flowinfo: "0", sin6_scopeid: "2" },
      unix: { sa_family: "AF_UNIX", sun_path: "/run/x.sock" },
      obj: { a: 1, nested: { list: [1, "x", null, true], raw: new Uint8Array([255]) }, big: 5n, gone: undefined },
      notsock: { sa_family: "AF_PACKET", ifindex: "2" },
      nums: [1, 2],
      map: new Map([["a", 1]]),
      fn: () => 1,
      badport: { sa_family: "AF_INET", sin_addr: "10.0.0.1", sin_port: "http" },
      baddate: { when: new Date(0) },
      detectedFrom: { id: 1 },
    };
    const sig = new TestSignature([sel("*")], (s, e) => s.report(e, data));
    const { participant, logger } = await adapt(sig);
    const [out] = (await participant.handle(hostEvent()))!;
    const sock = { sunPath: "", sinAddr: "", sinPort: 0, sin6Addr: "", sin6Port: 0, sin6Flowinfo: 0, sin6Scopeid: 0 };
    expect(out!.data).toEqual([
      { name: "s", str: "text" },
      { name: "b", bool: true },
      { name: "n", int64: 42n },
      { name: "neg", int64: -7n },
      { name: "f", timespec: { value: 1.5 } },
      { name: "big", uInt64: 2n ** 63n },
      { name: "nbig", int64: -5n },
      { name: "nil" },
      { name: "undef" },
      { name: "bytes", bytes: Buffer.from([1, 2, 3]) },
      { name: "date", uInt64: 1_500_000_000n },
      { name: "strs", strArray: { value: ["a", "b"] } },
      { name: "none", strArray: { value: [] } },
      { name: "u64s", uInt64Array: { value: [1n, 2n] } },
      { name: "objs", struct: { items: [{ a: 1 }, { b: "x" }] } },
      { name: "fds", struct: { k: "v", n: 2 } },
      { name: "inet", sockaddr: { ...sock, saFamily: SaFamily.AF_INET, sinAddr: "10.0.0.1", sinPort: 443 } },
      { name: "inet6", sockaddr: { ...sock, saFamily: SaFamily.AF_INET6, sin6Addr: "::1", sin6Port: 80, sin6Scopeid: 2 } },
      { name: "unix", sockaddr: { ...sock, saFamily: SaFamily.AF_UNIX, sunPath: "/run/x.sock" } },
      { name: "obj", struct: { a: 1, nested: { list: [1, "x", null, true], raw: "/w==" }, big: 5 } },
      { name: "notsock", struct: { sa_family: "AF_PACKET", ifindex: "2" } },
    ]);
    const errors = logger.lines.filter((l) => l.level === "error");
    expect(errors.map((l) => l.keyvals.slice(0, 2))).toEqual([
      ["name", "nums"],
      ["name", "map"],
      ["name", "fn"],
      ["event", "test_finding"],
      ["event", "test_finding"],
    ]);
    expect(errors.map((l) => l.keyvals[3])).toEqual(["Array", "Map", "function", "badport", "baddate"]);
  });

  it("puts the triggering event in detected_from: a system call's returnValue as int64, the chain kept", async () => {
    const report: OnEvent = (s, e) => s.report(e, {});
    const { participant } = await adapt(new TestSignature([sel("*")], report));

    const ptrace = buildEvent("ptrace", {
      data: [
        { name: "request", int64: 16n },
        { name: "pid", int32: 42 },
        { name: "returnValue", int32: -1 },
      ],
    });
    expect((await participant.handle(ptrace))![0]!.detectedFrom).toEqual({
      id: EventId.ptrace,
      name: "ptrace",
      data: [
        { name: "request", int64: 16n },
        { name: "pid", int32: 42 },
        { name: "returnValue", int64: -1n },
      ],
      parent: undefined,
    });

    // A syscall without a returnValue entry gets 0; another event keeps no returnValue.
    const noRv = buildEvent("openat", { data: { pathname: "/x" } });
    expect((await participant.handle(noRv))![0]!.detectedFrom!.data).toEqual([
      { name: "pathname", str: "/x" },
      { name: "returnValue", int64: 0n },
    ]);
    const exec = buildEvent("sched_process_exec", { data: [{ name: "cmdpath", str: "/bin/sh" }, { name: "returnValue", int64: 3n }] });
    expect((await participant.handle(exec))![0]!.detectedFrom!.data).toEqual([{ name: "cmdpath", str: "/bin/sh" }]);

    // A finding of a finding: the input's detected_from becomes the parent.
    const [first] = (await participant.handle(ptrace))!;
    const [second] = (await participant.handle(first!))!;
    expect(second!.detectedFrom).toEqual({ id: 6000, name: "test_finding", data: [], parent: first!.detectedFrom });

    // FindingToEvent adds detectedFrom only when the triggering event has arguments.
    expect((await participant.handle(buildEvent("sched_process_exec")))![0]!.detectedFrom).toBeUndefined();
  });
});

describe("adaptSignature: the finding event, against Tracee's own finding lines", () => {
  // Each fixture line is a finding Tracee printed: its metadata is what
  // getMetadataFromSignatureMetadata made of the signature's, so the signature
  // is rebuilt from it and its finding must convert to what legacyToEvent
  // (Tracee's ConvertToProto) makes of the line, plus detected_from.
  it("TRC-1022 New executable dropped (line 1): name, id, time, workload, data and threat", async () => {
    const legacy = line(0);
    const expected = legacyToEvent(legacy);
    const trigger: TraceeEvent = {
      timestamp: expected.timestamp,
      id: EventId.magic_write,
      name: "magic_write",
      policies: undefined,
      workload: expected.workload,
      data: [
        { name: "pathname", str: "/usr/bin/strace.dpkg-new" },
        { name: "bytes", bytes: Buffer.from("f0VMRgIBAQAAAAAAAAAAAAMAPgA=", "base64") },
        { name: "dev", uInt32: 2049 },
        { name: "inode", uInt64: 1311223n },
      ],
      threat: undefined,
      detectedFrom: undefined,
    };
    const sig = new TestSignature(
      [sel("magic_write", "*")],
      (s, e) => s.report(e, { path: e.payload.args[0]!.value as string }),
      metadataOf(legacy),
    );
    const { participant } = await adapt(sig, { eventIdFor: () => Number(legacy.eventId) });
    const out = await participant.handle(trigger);
    expect(sig.events[0]!.headers.selector.origin).toBe("container");
    expect(out).toEqual([
      {
        ...expected,
        detectedFrom: { id: EventId.magic_write, name: "magic_write", data: trigger.data, parent: undefined },
      },
    ]);
    expect(out![0]!.threat).toEqual({
      description: legacy.metadata!.Description,
      mitre: { tactic: { name: "defense-evasion" }, technique: { id: "T1036", name: "Masquerading" } },
      severity: Severity.MEDIUM,
      name: "New executable dropped",
      properties: {
        Kubernetes_Technique: "",
        id: "attack-pattern--42e8de7b-37b2-4258-905a-6897815e58e0",
        signatureID: "TRC-1022",
      },
    });
  });

  it("TRC-102 Anti-Debugging detected (line 9): the same, from a ptrace on the host", async () => {
    const legacy = line(8);
    const expected = legacyToEvent(legacy);
    const trigger = buildEvent("ptrace", {
      timestamp: 1680119087787203746n,
      data: [
        { name: "request", int64: 0n },
        { name: "pid", int32: 0 },
        { name: "addr", pointer: 0n },
        { name: "data", pointer: 0n },
        { name: "returnValue", int64: 0n },
      ],
    });
    trigger.workload = expected.workload;
    trigger.policies = undefined;
    const sig = new TestSignature([sel("ptrace")], (s, e) => s.report(e, {}), metadataOf(legacy));
    const { participant } = await adapt(sig, { eventIdFor: () => 6018 });
    const out = await participant.handle(trigger);
    expect(sig.events[0]!.headers.selector.origin).toBe("host");
    expect(out).toEqual([
      { ...expected, detectedFrom: { id: EventId.ptrace, name: "ptrace", data: trigger.data, parent: undefined } },
    ]);
    expect(out![0]!.threat!.severity).toBe(Severity.LOW);
  });

  it("a signature without Severity (line 4) is still a threat today: INFO, with id <nil>", async () => {
    // The line predates Tracee's always setting Severity, Category, Technique,
    // id and external_id (2023-09): legacyToEvent finds no threat in it, the
    // current FindingToEvent + getThreat give this one.
    const legacy = line(3);
    expect(legacyToEvent(legacy).threat).toBeUndefined();
    const sig = new TestSignature([sel("*")], (s, e) => s.report(e, {}), metadataOf(legacy));
    const { participant } = await adapt(sig, { eventIdFor: () => 6030 });
    const trigger = buildEvent("openat", { policies: [""] });
    const [out] = (await participant.handle(trigger))!;
    expect(out!.threat).toEqual({
      description: "My Own Signature Detects Stuff",
      mitre: { tactic: { name: "" }, technique: { id: "", name: "" } },
      severity: Severity.INFO,
      name: "My Own Signature",
      properties: { id: "<nil>", signatureID: "Mine-0.1.0" },
    });
    expect(out).toMatchObject({ id: 6030, name: "mine", policies: { matched: [""] } });
  });

  it("prints other properties as Go's fmt.Sprint does, and reads Severity only as a whole 0–4", async () => {
    const properties = { Severity: 9, count: 3, ratio: 0.5, on: false, tags: ["a", "b"], nested: { z: 1, a: null }, Category: 7 };
    const sig = new TestSignature([sel("*")], (s, e) => s.report(e, {}), { ...META, properties });
    const { participant } = await adapt(sig);
    const [out] = (await participant.handle(hostEvent()))!;
    expect(out!.threat).toEqual({
      description: "A test",
      mitre: { tactic: { name: "" }, technique: { id: "", name: "" } },
      severity: Severity.INFO,
      name: "Test signature",
      properties: {
        count: "3",
        id: "<nil>",
        nested: "map[a:<nil> z:1]",
        on: "false",
        ratio: "0.5",
        signatureID: "TRC-T",
        tags: "[a b]",
      },
    });
    const high = new TestSignature([sel("*")], (s, e) => s.report(e, {}), { ...META, properties: { Severity: 4n } });
    const [h] = (await (await adapt(high)).participant.handle(hostEvent()))!;
    expect(h!.threat!.severity).toBe(Severity.CRITICAL);
  });
});

describe("adaptSignature: lifecycle", () => {
  it("init gives the signature a context with the data sources and logger; a throw rejects init", async () => {
    const reg = new DataSourceRegistry();
    const ds = fakeDataSource({ namespace: "ns", id: "ds", data: { k: { v: 1 } } });
    reg.register(ds);
    const sig = new TestSignature([sel("*")]);
    const { logger } = await adapt(sig, { getDataSource: reg.context({ callback: () => {} }).getDataSource });
    expect(sig.ctx!.getDataSource("ns", "ds")).toBe(ds);
    sig.ctx!.logger.info("hello", "k", 1);
    expect(logger.lines).toContainEqual({ level: "info", msg: "hello", keyvals: ["k", 1] });

    const failing = new TestSignature([sel("*")]);
    failing.init = () => {
      throw new Error("no data source");
    };
    const p = adaptSignature(failing, { getDataSource, logger: recordingLogger() });
    await expect(p.init(() => {})).rejects.toThrow("no data source");
  });

  it('end() sends { type: "source-complete", source: "tracee" } to onSignal; what it reports goes to emit', async () => {
    const sig = new TestSignature([sel("openat", "host")]);
    sig.onSignalReport = true;
    const { participant, emitted } = await adapt(sig);
    await participant.handle(hostEvent());
    await participant.end!();
    expect(sig.signals).toEqual([{ type: "source-complete", source: "tracee" }]);
    expect(sig.signals[0]).toBe(SOURCE_COMPLETE_TRACEE);
    expect(isSignalSourceComplete(sig.signals[0])).toBe(true);
    expect(Object.isFrozen(SOURCE_COMPLETE_TRACEE)).toBe(true);
    expect(emitted.map((o) => o.data)).toEqual([[{ name: "message", str: "done" }]]);
    expect(signalSourceComplete("other")).toEqual({ type: "source-complete", source: "other" });
    expect([isSignalSourceComplete("tracee"), isSignalSourceComplete(null), isSignalSourceComplete({ type: "x" })]).toEqual([
      false,
      false,
      false,
    ]);
  });

  it("end() signals only a signature with a tracee selector, as Tracee's engine", async () => {
    const sig = new TestSignature([sel("openat", "*", "other"), sel("openat", "*", "")]);
    const { participant } = await adapt(sig);
    await participant.end!();
    expect(sig.signals).toEqual([]);
    // An empty-name tracee selector still counts.
    const empty = new TestSignature([sel("")]);
    await (await adapt(empty)).participant.end!();
    expect(empty.signals).toHaveLength(1);
  });

  it("close() calls the signature's close", async () => {
    const sig = new TestSignature([sel("*")]);
    const { participant } = await adapt(sig);
    await participant.close();
    expect(sig.closed).toBe(1);
  });

  it("a throw from getMetadata or getSelectedEvents propagates from adaptSignature", () => {
    const sig = new TestSignature([sel("*")]);
    sig.getSelectedEvents = () => {
      throw new Error("no selectors");
    };
    expect(() => adaptSignature(sig, { getDataSource, logger: recordingLogger() })).toThrow("no selectors");
  });
});

describe("adaptSignature: the threshold example signature", () => {
  it("reports a process past the threshold once, as a v1beta1 event", async () => {
    const reg = new DataSourceRegistry();
    reg.register(fakeDataSource({ namespace: THRESHOLD_NAMESPACE, id: THRESHOLD_ID, version: 1, data: { threshold: { threshold: 2 } } }));
    const sig = new ExcessiveFileOpens();
    const logger = recordingLogger();
    const participant = adaptSignature(sig, {
      getDataSource: reg.context({ callback: () => {} }).getDataSource,
      logger,
      eventIdFor: signatureEventIds([sig]),
    });
    expect(participant).toMatchObject({
      id: "TRC-DS-1",
      eventNames: ["security_file_open", "sched_process_exit"],
      produces: ["excessive_file_opens"],
    });
    const emitted: TraceeEvent[] = [];
    await participant.init((events) => emitted.push(...events));

    const open = (pid: number, pathname: string) =>
      buildEvent("security_file_open", {
        data: { pathname, flags: "O_RDONLY" },
        process: { pid, hostPid: pid + 1000, comm: "cat" },
        container: { id: "c0ffee" },
        timestamp: 5_000_000_000n,
      });
    const outputs: TraceeEvent[] = [];
    for (const path of ["/a", "/b", "/c", "/d"]) outputs.push(...((await participant.handle(open(1, path))) ?? []));
    outputs.push(...((await participant.handle(open(2, "/a"))) ?? []));
    expect(await participant.handle(buildEvent("openat"))).toBeUndefined();

    const third = open(1, "/c");
    expect(outputs).toEqual([
      {
        timestamp: { seconds: 5n, nanos: 0 },
        id: 6000,
        name: "excessive_file_opens",
        policies: { matched: ["default"] },
        workload: third.workload,
        data: [
          { name: "processName", str: "cat" },
          { name: "pid", int64: 1001n },
          { name: "opens", int64: 3n },
          { name: "threshold", int64: 2n },
        ],
        threat: {
          description: "A process opened more files than the configured threshold.",
          mitre: { tactic: { name: "" }, technique: { id: "", name: "" } },
          severity: Severity.MEDIUM,
          name: "Excessive file opens",
          properties: { id: "<nil>", signatureID: "TRC-DS-1" },
        },
        detectedFrom: { id: EventId.security_file_open, name: "security_file_open", data: third.data, parent: undefined },
      },
    ]);

    // A process exit resets the count.
    await participant.handle(buildEvent("sched_process_exit", { process: { pid: 1, hostPid: 1001 } }));
    for (const path of ["/a", "/b"]) expect(await participant.handle(open(1, path))).toEqual([]);
    expect((await participant.handle(open(1, "/c")))!).toHaveLength(1);

    await participant.end!();
    await participant.close();
    expect(emitted).toEqual([]);
    expect(logger.lines.filter((l) => l.level === "error")).toEqual([]);
  });
});
