/**
 * Scope filters: conditions on who caused an event (its workload). See
 * `../filters.ts` for the grammar.
 *
 * @internal
 * @module
 */
import type { TraceeEvent } from "../../events/model.js";
import { MAX_INT64, MIN_INT64, parseInteger, safeNumber, StringSpec } from "./match.js";
import { type Expression, parseExpression, refuse } from "./syntax.js";

type Test = (event: TraceeEvent) => boolean;
type Getter<T> = (event: TraceeEvent) => T;

const NOT_IN_STREAM = "not available in Tracee's event stream (tracee.v1beta1.Event does not carry it)";

/**
 * Tracee's numeric filter (pkg/filters/numeric.go, `NumericFilter[int64]`):
 * an `=` value passes, a `!=` value fails, then a range decides when one was
 * given (bounds exclusive; several `>` keep the lowest, several `<` the
 * highest, `>` and `<` together make an interval); with none, the value
 * passes only when the filters were all `!=`.
 */
class NumericSpec {
  readonly equal = new Set<bigint>();
  readonly notEqual = new Set<bigint>();
  min: bigint | undefined;
  max: bigint | undefined;

  add(expr: Expression, name: string): void {
    const op = expr.op as NonNullable<Expression["op"]>;
    for (const value of expr.values) {
      if (value === "new" && name === "pid") {
        refuse(expr, "pid=new needs to know which processes started after Tracee did, which its event stream does not say");
      }
      const n = parseInteger(value);
      if (n === undefined) refuse(expr, `${name} takes integers, and ${JSON.stringify(value)} is not one`);
      if (n < MIN_INT64 || n > MAX_INT64) refuse(expr, `${value} is outside the int64 range Tracee parses ${name} in`);
      if (op === "=" || op === "<=" || op === ">=") this.equal.add(n);
      if (op === "!=") this.notEqual.add(n);
      // As Tracee's unset sentinels do: `<` the int64 minimum and `>` its maximum set nothing.
      if ((op === "<" || op === "<=") && n !== MIN_INT64 && (this.max === undefined || n > this.max)) this.max = n;
      if ((op === ">" || op === ">=") && n !== MAX_INT64 && (this.min === undefined || n < this.min)) this.min = n;
    }
  }

  /** The test on a workload number (a uint32 in the event, 0 when absent). */
  compile(get: Getter<number>): Test {
    const equal = numbers(this.equal);
    const notEqual = numbers(this.notEqual);
    const min = this.min === undefined ? undefined : Number(this.min);
    const max = this.max === undefined ? undefined : Number(this.max);
    const ranged = min !== undefined || max !== undefined;
    const onlyNotEqual = this.equal.size === 0 && this.notEqual.size > 0;
    return (event) => {
      const n = get(event);
      if (equal.has(n)) return true;
      if (notEqual.has(n)) return false;
      if (ranged) return (min === undefined || n > min) && (max === undefined || n < max);
      return onlyNotEqual;
    };
  }

  /** The same test on the event's timestamp in nanoseconds, compared as (seconds, nanos) so nothing is allocated. */
  compileTimestamp(): Test {
    const equal = new Map<bigint, Set<number>>();
    for (const ns of this.equal) {
      const [s, n] = split(ns);
      let set = equal.get(s);
      if (set === undefined) equal.set(s, (set = new Set()));
      set.add(n);
    }
    const notEqual = new Map<bigint, Set<number>>();
    for (const ns of this.notEqual) {
      const [s, n] = split(ns);
      let set = notEqual.get(s);
      if (set === undefined) notEqual.set(s, (set = new Set()));
      set.add(n);
    }
    const [minS, minN] = this.min === undefined ? [undefined, 0] : split(this.min);
    const [maxS, maxN] = this.max === undefined ? [undefined, 0] : split(this.max);
    const ranged = minS !== undefined || maxS !== undefined;
    const onlyNotEqual = this.equal.size === 0 && this.notEqual.size > 0;
    return (event) => {
      const ts = event.timestamp;
      const s = ts === undefined ? 0n : ts.seconds;
      const n = ts === undefined ? 0 : ts.nanos;
      if (equal.get(s)?.has(n) === true) return true;
      if (notEqual.get(s)?.has(n) === true) return false;
      if (ranged) {
        return (
          (minS === undefined || s > minS || (s === minS && n > minN)) &&
          (maxS === undefined || s < maxS || (s === maxS && n < maxN))
        );
      }
      return onlyNotEqual;
    };
  }
}

function numbers(set: ReadonlySet<bigint>): Set<number> {
  const out = new Set<number>();
  for (const n of set) {
    const small = safeNumber(n);
    if (small !== undefined) out.add(small);
  }
  return out;
}

/** Nanoseconds as (seconds, nanoseconds 0..999999999), as a protobuf Timestamp holds them. */
function split(ns: bigint): [bigint, number] {
  let s = ns / 1_000_000_000n;
  let rest = ns % 1_000_000_000n;
  if (rest < 0n) {
    s -= 1n;
    rest += 1_000_000_000n;
  }
  return [s, Number(rest)];
}

/** Tracee's bool filter (pkg/filters/bool.go): which of true and false pass. */
class BoolSpec {
  allowTrue = false;
  allowFalse = false;
  compile(get: Getter<boolean>): Test {
    if (this.allowTrue && this.allowFalse) return () => true;
    if (this.allowTrue) return (event) => get(event);
    return (event) => !get(event);
  }
}

/** Exact values with `=` / `!=`, as Tracee's binary filter takes executable paths. */
class ExactSpec {
  readonly equal = new Set<string>();
  readonly notEqual = new Set<string>();
  compile(get: Getter<string>): Test {
    const { equal, notEqual } = this;
    const negatives = notEqual.size > 0;
    return (event) => {
      const s = get(event);
      if (equal.has(s)) return true;
      return negatives && !notEqual.has(s);
    };
  }
}

/** Container ids or their leading part (Tracee's short ids), with `=` / `!=`. */
class IdPrefixSpec {
  readonly prefixes: string[] = [];
  readonly notPrefixes: string[] = [];
  compile(get: Getter<string>): Test {
    const { prefixes, notPrefixes } = this;
    return (event) => {
      const id = get(event);
      for (let i = 0; i < prefixes.length; i++) if (id.startsWith(prefixes[i] as string)) return true;
      if (notPrefixes.length === 0) return false;
      for (let i = 0; i < notPrefixes.length; i++) if (id.startsWith(notPrefixes[i] as string)) return false;
      return true;
    };
  }
}

const process = (e: TraceeEvent) => e.workload?.process;
const thread = (e: TraceeEvent) => e.workload?.process?.thread;
const container = (e: TraceeEvent) => e.workload?.container;
const k8s = (e: TraceeEvent) => e.workload?.k8s;

/** Numeric scope fields: canonical name, its getter. */
const NUMERIC: Readonly<Record<string, readonly [string, Getter<number>]>> = {
  p: ["pid", (e) => process(e)?.pid ?? 0],
  pid: ["pid", (e) => process(e)?.pid ?? 0],
  processId: ["pid", (e) => process(e)?.pid ?? 0],
  tid: ["tid", (e) => thread(e)?.tid ?? 0],
  threadId: ["tid", (e) => thread(e)?.tid ?? 0],
  ppid: ["ppid", (e) => process(e)?.ancestors[0]?.pid ?? 0],
  parentProcessId: ["ppid", (e) => process(e)?.ancestors[0]?.pid ?? 0],
  hostPid: ["hostPid", (e) => process(e)?.hostPid ?? 0],
  hostTid: ["hostTid", (e) => thread(e)?.hostTid ?? 0],
  hostThreadId: ["hostTid", (e) => thread(e)?.hostTid ?? 0],
  uid: ["uid", (e) => process(e)?.realUser?.id ?? 0],
  userId: ["uid", (e) => process(e)?.realUser?.id ?? 0],
};

/** String scope fields: canonical name, its getter, whether it also requires a container (as Tracee's addContainer does). */
const STRING: Readonly<Record<string, readonly [string, Getter<string>, boolean]>> = {
  comm: ["comm", (e) => thread(e)?.name ?? "", false],
  processName: ["comm", (e) => thread(e)?.name ?? "", false],
  syscall: ["syscall", (e) => thread(e)?.syscall ?? "", false],
  containerId: ["containerId", (e) => container(e)?.id ?? "", true],
  containerImage: ["containerImage", (e) => container(e)?.image?.name ?? "", true],
  containerImageDigest: ["containerImageDigest", (e) => container(e)?.image?.repoDigests[0] ?? "", true],
  containerName: ["containerName", (e) => container(e)?.name ?? "", true],
  podName: ["podName", (e) => k8s(e)?.pod?.name ?? "", true],
  podNamespace: ["podNamespace", (e) => k8s(e)?.namespace?.name ?? "", true],
  podUid: ["podUid", (e) => k8s(e)?.pod?.uid ?? "", true],
};

const EXECUTABLE = new Set(["executable", "exec", "bin", "binary"]);

/** Fields Tracee knows that a stream consumer cannot evaluate, and why. */
const REFUSED: Readonly<Record<string, string>> = {
  mntns: `the mount namespace is ${NOT_IN_STREAM}`,
  mountNamespace: `the mount namespace is ${NOT_IN_STREAM}`,
  pidns: `the pid namespace is ${NOT_IN_STREAM}`,
  pidNamespace: `the pid namespace is ${NOT_IN_STREAM}`,
  uts: `the UTS namespace name is ${NOT_IN_STREAM}`,
  hostName: `the host name is ${NOT_IN_STREAM}`,
  cgroupId: `the cgroup id is ${NOT_IN_STREAM}`,
  processorId: `the processor id is ${NOT_IN_STREAM}`,
  podSandbox: `whether the container is a pod sandbox is ${NOT_IN_STREAM}`,
  hostParentProcessId:
    "Tracee reads hostParentProcessId as hostPid (pkg/filters/scope.go), not as the parent's host pid: write hostPid=… for what Tracee does, or ppid=… for the parent",
  tree:
    "tree needs Tracee's process tree (every descendant of a pid); an event carries at most a few ancestors: check event.workload.process.ancestors in onEvent",
  follow:
    "follow needs to track the children of matching processes as Tracee does in the kernel; a stream consumer sees no such link",
};

const KNOWN = [
  "container",
  "not-container",
  "host",
  "global",
  ...Object.keys(NUMERIC),
  "timestamp",
  ...Object.keys(STRING),
  ...EXECUTABLE,
].join(", ");

function noOperator(expr: Expression, field: string): void {
  if (expr.op !== undefined) refuse(expr, `${field} takes no operator or value`);
}

/** Compiles scope filters into tests that all must pass. */
export function compileScopeFilters(filters: readonly string[]): Test[] {
  const numeric = new Map<string, [NumericSpec, Getter<number>]>();
  const strings = new Map<string, [StringSpec, Getter<string>]>();
  let timestamp: NumericSpec | undefined;
  let inContainer: BoolSpec | undefined;
  let started: BoolSpec | undefined;
  let executable: ExactSpec | undefined;
  let containerIds: IdPrefixSpec | undefined;
  let global = false;
  const requireContainer = () => {
    inContainer ??= new BoolSpec();
    inContainer.allowTrue = true;
  };

  for (const text of filters) {
    const expr = parseExpression("scope", text);
    const field = expr.field;
    const op = expr.op;
    if (Object.hasOwn(REFUSED, field)) refuse(expr, REFUSED[field] as string);

    if (field === "global") {
      noOperator(expr, field);
      global = true;
      continue;
    }
    if (field === "host" || field === "not-container") {
      noOperator(expr, field);
      inContainer ??= new BoolSpec();
      inContainer.allowFalse = true;
      continue;
    }
    if (field.startsWith("not-")) {
      refuse(expr, `only not-container negates a scope; write ${field.slice(4)}!=value for the others`);
    }
    if (field === "container") {
      if (op === undefined) {
        requireContainer();
        continue;
      }
      if (op !== "=" && op !== "!=") refuse(expr, "container takes `=` or `!=`: container=started, container=<id>");
      if (expr.values.includes("new")) {
        refuse(expr, "container=new needs to know which containers started after Tracee did, which its event stream does not say");
      }
      if (expr.values.length === 1 && expr.values[0] === "started") {
        if (op === "!=") refuse(expr, "Tracee has no filter for containers not yet started: write container and check getContainerStarted in onEvent");
        requireContainer();
        started ??= new BoolSpec();
        started.allowTrue = true;
        continue;
      }
      if (expr.values.includes("started")) refuse(expr, "container=started takes no other value");
      containerIds ??= new IdPrefixSpec();
      for (const id of expr.values) {
        if (id.includes("*")) refuse(expr, "container=<id> takes ids or their leading part (short ids), not wildcards: write containerId=<pattern>");
        (op === "=" ? containerIds.prefixes : containerIds.notPrefixes).push(id);
      }
      requireContainer();
      continue;
    }
    if (field === "timestamp" || Object.hasOwn(NUMERIC, field)) {
      if (op === undefined) refuse(expr, `${field} needs an operator and a value, as in ${field}=1000 or ${field}>1000`);
      if (field === "timestamp") {
        timestamp ??= new NumericSpec();
        timestamp.add(expr, field);
        continue;
      }
      const [name, get] = NUMERIC[field] as readonly [string, Getter<number>];
      let entry = numeric.get(name);
      if (entry === undefined) numeric.set(name, (entry = [new NumericSpec(), get]));
      entry[0].add(expr, name);
      continue;
    }
    if (Object.hasOwn(STRING, field)) {
      if (op === undefined) refuse(expr, `${field} needs an operator and a value, as in ${field}=value`);
      if (op !== "=" && op !== "!=") refuse(expr, `${field} compares text: only \`=\` and \`!=\` apply`);
      const [name, get, needsContainer] = STRING[field] as readonly [string, Getter<string>, boolean];
      let entry = strings.get(name);
      if (entry === undefined) strings.set(name, (entry = [new StringSpec(), get]));
      for (const value of expr.values) entry[0].add(expr, op, value);
      if (needsContainer) requireContainer();
      continue;
    }
    if (EXECUTABLE.has(field)) {
      if (op === undefined) refuse(expr, `${field} needs an operator and a path, as in ${field}=/usr/bin/ls`);
      if (op !== "=" && op !== "!=") refuse(expr, `${field} compares paths: only \`=\` and \`!=\` apply`);
      executable ??= new ExactSpec();
      for (const path of expr.values) {
        if (!path.startsWith("/")) {
          if (/^(?:host|[0-9]+):/.test(path)) refuse(expr, `an executable in a given mount namespace needs the namespace, which is ${NOT_IN_STREAM}`);
          refuse(expr, `${JSON.stringify(path)} is not an absolute path`);
        }
        if (path.includes("*")) refuse(expr, `${field} takes exact paths: Tracee's binary filter has no wildcards`);
        (op === "=" ? executable.equal : executable.notEqual).add(path);
      }
      continue;
    }
    refuse(expr, `unknown scope field ${JSON.stringify(field)}; the scope fields are ${KNOWN}`);
  }

  if (global && filters.length > 1) {
    refuse({ kind: "scope", text: "global" }, "global is the whole scope: it must be the only scope filter");
  }

  const tests: Test[] = [];
  if (inContainer !== undefined) tests.push(inContainer.compile((e) => (container(e)?.id ?? "") !== ""));
  if (started !== undefined) tests.push(started.compile((e) => container(e)?.started ?? false));
  if (containerIds !== undefined) tests.push(containerIds.compile((e) => container(e)?.id ?? ""));
  for (const [spec, get] of numeric.values()) tests.push(spec.compile(get));
  for (const [spec, get] of strings.values()) {
    const test = spec.compile();
    tests.push((e) => test(get(e)));
  }
  if (executable !== undefined) tests.push(executable.compile((e) => process(e)?.executable?.path ?? ""));
  if (timestamp !== undefined) tests.push(timestamp.compileTimestamp());
  return tests;
}
