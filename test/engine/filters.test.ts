/**
 * compileFilters: Tracee's data and scope filter grammar (pkg/filters and
 * pkg/detectors/registry.go), on events from buildEvent and on Tracee's own
 * sample lines; every refusal and its message; and properties against a
 * reference model of the semantics.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { decodeEventJson, type EventValue, kindOf, type TraceeEvent } from "tracee-ds/events";
import { buildEvent, type BuildEventOptions } from "tracee-ds/testing";
import { describe, expect, it } from "vitest";
import {
  compileFilters,
  type EventFilter,
  FilterSyntaxError,
  hasFilters,
  isFilterSyntaxError,
} from "../../src/engine/filters.js";
import type { EventRequirement } from "../../src/engine/types.js";
import { traceeEvent } from "../events/arbitraries.js";

const SAMPLES: readonly TraceeEvent[] = readFileSync(new URL("../fixtures/events/v1beta1.ndjson", import.meta.url), "utf8")
  .split("\n")
  .filter((line) => line !== "")
  .map((line) => decodeEventJson(line));

const dataFilter = (...filters: string[]): EventFilter => compileFilters({ dataFilters: filters });
const scopeFilter = (...filters: string[]): EventFilter => compileFilters({ scopeFilters: filters });
const withData = (...values: EventValue[]): TraceeEvent => buildEvent("test_event", { data: values });
const withStr = (name: string, str: string): TraceeEvent => withData({ name, str });
const ev = (options: BuildEventOptions): TraceeEvent => buildEvent("test_event", options);

/** Which of `values` (as a str argument `f`) pass `filters`. */
function passing(filters: readonly string[], values: readonly string[]): string[] {
  const filter = compileFilters({ dataFilters: filters.map((f) => `f${f}`) });
  return values.filter((v) => filter(withStr("f", v)));
}

/** The indexes of the sample lines that pass. */
function sampleIndexes(filter: EventFilter): number[] {
  return SAMPLES.flatMap((e, i) => (filter(e) ? [i] : []));
}

/** The FilterSyntaxError compiling throws. */
function errorOf(requirement: Parameters<typeof compileFilters>[0]): FilterSyntaxError {
  try {
    compileFilters(requirement);
  } catch (error) {
    if (error instanceof FilterSyntaxError) return error;
    throw error;
  }
  throw new Error("compileFilters did not throw");
}

describe("compileFilters: no filters", () => {
  it("passes everything, and hasFilters says so", () => {
    const filter = compileFilters({});
    expect(SAMPLES.every((e) => filter(e))).toBe(true);
    expect(compileFilters({ dataFilters: [], scopeFilters: [] })(withData())).toBe(true);
    expect(hasFilters({})).toBe(false);
    expect(hasFilters({ dataFilters: [] })).toBe(false);
    expect(hasFilters({ scopeFilters: ["container"] })).toBe(true);
  });

  it("takes an EventRequirement as it is", () => {
    const requirement: EventRequirement = { name: "openat", dependency: "required", dataFilters: ["pathname=/tmp/*"], fields: { pathname: "str" } };
    expect(compileFilters(requirement)(SAMPLES[1] as TraceeEvent)).toBe(true);
  });
});

describe("data filters: = and != on text", () => {
  it("= matches the exact value, several values OR", () => {
    expect(passing(["=/etc/shadow"], ["/etc/shadow", "/etc/shadow2", "/etc", ""])).toEqual(["/etc/shadow"]);
    expect(passing(["=/etc/shadow,/etc/passwd"], ["/etc/shadow", "/etc/passwd", "/etc/group"])).toEqual([
      "/etc/shadow",
      "/etc/passwd",
    ]);
  });

  it("filters on the same field OR, as one filter with both values", () => {
    expect(passing(["=/etc/shadow", "=/etc/passwd"], ["/etc/shadow", "/etc/passwd", "/etc/group"])).toEqual([
      "/etc/shadow",
      "/etc/passwd",
    ]);
  });

  it("!= excludes, several values AND (none of them)", () => {
    expect(passing(["!=abc,abcd"], ["abc", "abcd", "abcde", "aaaaaa"])).toEqual(["abcde", "aaaaaa"]);
    expect(passing(["!=abc", "!=abcd"], ["abc", "abcd", "abcde"])).toEqual(["abcde"]);
  });

  it("an = that matches wins over a != (Tracee's string_test.go)", () => {
    expect(passing(["!=abc,abcd", "=abc"], ["abc", "abcd", "abcde", "aaaaaa"])).toEqual(["abc", "abcde", "aaaaaa"]);
    const values = ["flanneld", "kube-proxy", "etcd", "kube-apiserver", "coredns", "kube-controller", "kubectl", "kubelet", "bruh"];
    expect(
      passing(
        ["!=flanneld,kube-proxy,etcd,kube-apiserver,coredns,kube-controller,kubectl", "=kube-apiserver,kubelet,kube-controller,etcd"],
        values,
      ),
    ).toEqual(["etcd", "kube-apiserver", "kube-controller", "kubelet", "bruh"]);
  });

  it("a `=` wildcard with a `!=` exact value passes everything; a `!=` wildcard with an `=` exception carves", () => {
    expect(passing(["=kube*", "!=kubectl"], ["kubelet", "kubectl", "bash"])).toEqual(["kubelet", "kubectl", "bash"]);
    expect(passing(["!=kube*", "=kubectl"], ["kubelet", "kubectl", "bash"])).toEqual(["kubectl", "bash"]);
  });

  it("compares case-sensitively, whitespace inside a value included", () => {
    expect(passing(["=My File"], ["My File", "my file", "My  File"])).toEqual(["My File"]);
  });
});

describe("data filters: wildcards", () => {
  it("value* is a prefix, *value a suffix, *value* a substring", () => {
    expect(passing(["=/etc/*"], ["/etc/shadow", "/etc/", "/etc", "/usr/etc/x"])).toEqual(["/etc/shadow", "/etc/"]);
    expect(passing(["=*shadow"], ["/etc/shadow", "shadow", "/etc/shadow-", "/etc/gshadow"])).toEqual([
      "/etc/shadow",
      "shadow",
      "/etc/gshadow",
    ]);
    expect(passing(["=*kube*"], ["kube", "/etc/kubernetes", "/var/lib/kubelet/x", "/k/u/b/e"])).toEqual([
      "kube",
      "/etc/kubernetes",
      "/var/lib/kubelet/x",
    ]);
  });

  it("Tracee's real example: prefixes, suffixes and contains together", () => {
    const filters = ["=*/release_agent,/etc/kubernetes/pki/*,*secrets/kubernetes.io/serviceaccount*,*token,/etc/ld.so.preload"];
    const values = [
      "xd/bruh/release_agent",
      "/etc/kubernetes/pki/true",
      "/nottrue/etc/kubernetes/pki/",
      "anythingheresecrets/kubernetes.io/serviceaccountanythingthere",
      "secrets/kubernetes.io/serviceaccount",
      "secrets/notkubernetes.io/serviceaccount",
      "token",
      "something_token",
      "token_withsomething",
      "/etc/ld.so.preload",
      "/etc/ld.so..preload",
    ];
    expect(passing(filters, values).map((v) => values.indexOf(v))).toEqual([0, 1, 3, 4, 6, 7, 9]);
  });

  it("Tracee's security_bprm_check example: = prefixes with != prefixes", () => {
    const filters = [
      "=mysqld*,postgres*,sqlplus*,couchdb*,memcached*,redis-server*,rabbitmq-server*,mongod*,runc:[2:INIT],nginx*,httpd*,httpd-foregroun*,http-nio*,lighttpd*,apache*,apache2*,runc:*",
      "!=runc*,containerd*,(kubelet)",
    ];
    const values = ["reality", "can", "be", "whatever", "i", "want", "containerd-nothis", "(kubelet)", "runc:[2:INIT]", "runc-else"];
    expect(passing(filters, values)).toEqual(["reality", "can", "be", "whatever", "i", "want", "runc:[2:INIT]"]);
  });

  it("!= takes wildcards too", () => {
    expect(passing(["!=/tmp/*"], ["/tmp/x", "/etc/x"])).toEqual(["/etc/x"]);
    expect(passing(["!=*.so"], ["libc.so", "libc.so.6"])).toEqual(["libc.so.6"]);
    expect(passing(["!=*cache*"], ["/var/cache/x", "/var/lib/x"])).toEqual(["/var/lib/x"]);
  });

  it("a * elsewhere is literal; only the first and last characters are wildcards", () => {
    expect(passing(["=/etc/*/passwd"], ["/etc/*/passwd", "/etc/x/passwd"])).toEqual(["/etc/*/passwd"]);
    // "**x" is the suffix "*x"; "***" contains "*".
    expect(passing(["=**x"], ["a*x", "ax"])).toEqual(["a*x"]);
    expect(passing(["=***"], ["a*b", "ab"])).toEqual(["a*b"]);
  });
});

describe("data filters: integers", () => {
  it("= and != compare the decimal Go prints, on every integer kind", () => {
    const values: EventValue[] = [
      { name: "a", int32: -100 },
      { name: "b", uInt32: 438 },
      { name: "c", int64: 3n },
      { name: "d", uInt64: 1966101n },
      { name: "e", pointer: 0x7fffn },
    ];
    const event = withData(...values);
    for (const f of ["a=-100", "b=438", "c=3", "d=1966101", "e=32767", "a!=100", "b!=0", "d=1,1966101"]) {
      expect(dataFilter(f)(event), f).toBe(true);
    }
    // Text Go never prints: a sign, leading zeros, hex (a pointer prints in decimal).
    for (const f of ["a=-0100", "b=+438", "b=0438", "c=3.0", "e=0x7fff", "d!=1966101", "c=-3"]) {
      expect(dataFilter(f)(event), f).toBe(false);
    }
  });

  it("u_int64 compares exactly beyond 2^53", () => {
    const big = 2n ** 53n + 1n; // 2^53 + 1 has no exact double
    const event = withData({ name: "inode", uInt64: big }, { name: "max", uInt64: 2n ** 64n - 1n });
    expect(dataFilter(`inode=${big}`)(event)).toBe(true);
    expect(dataFilter(`inode=${2n ** 53n}`)(event)).toBe(false);
    expect(dataFilter(`inode!=${2n ** 53n}`)(event)).toBe(true);
    expect(dataFilter(`inode>${2n ** 53n}`)(event)).toBe(true);
    expect(dataFilter(`inode<${big}`)(event)).toBe(false);
    expect(dataFilter(`inode<=${big}`)(event)).toBe(true);
    expect(dataFilter("max=18446744073709551615")(event)).toBe(true);
    expect(dataFilter("max>18446744073709551614")(event)).toBe(true);
    expect(dataFilter("max<18446744073709551615")(event)).toBe(false);
  });

  it("<, <=, >, >= on int32, u_int32, int64, u_int64 and pointer", () => {
    const cases: [EventValue, string, boolean][] = [
      [{ name: "n", int32: -5 }, "n<0", true],
      [{ name: "n", int32: -5 }, "n>-5", false],
      [{ name: "n", int32: -5 }, "n>=-5", true],
      [{ name: "n", int32: 2147483647 }, "n>2147483646", true],
      [{ name: "n", uInt32: 4294967295 }, "n>=4294967295", true],
      [{ name: "n", uInt32: 10 }, "n<=9", false],
      [{ name: "n", int64: -(2n ** 63n) }, "n<-9223372036854775807", true],
      [{ name: "n", int64: 17n }, "n>16", true],
      [{ name: "n", int64: 17n }, "n<17", false],
      [{ name: "n", uInt64: 131072n }, "n>=131072", true],
      [{ name: "n", uInt64: 131072n }, "n>131072", false],
      [{ name: "n", pointer: 0xffff_ffff_ffffn }, "n>281474976710654", true],
      [{ name: "n", uInt32: 7 }, "n<+8", true],
      [{ name: "n", uInt32: 7 }, "n>007", false],
    ];
    for (const [value, filter, expected] of cases) expect(dataFilter(filter)(withData(value)), `${filter} on ${kindOf(value)}`).toBe(expected);
  });

  it("several > keep the lowest bound, several < the highest; > with < is an interval", () => {
    const n = (x: number) => withData({ name: "count", uInt32: x });
    const pass = (filters: string[]) => [0, 5, 10, 15, 20, 25].filter((x) => compileFilters({ dataFilters: filters })(n(x)));
    expect(pass(["count>15", "count>5"])).toEqual([10, 15, 20, 25]);
    expect(pass(["count<5", "count<15"])).toEqual([0, 5, 10]);
    expect(pass(["count>5", "count<20"])).toEqual([10, 15]);
    expect(pass(["count>=5", "count<=20"])).toEqual([5, 10, 15, 20]);
    expect(pass(["count>20", "count<5"])).toEqual([]); // an empty interval, as in Tracee
    expect(pass(["count>5", "count!=15"])).toEqual([10, 20, 25]);
    expect(pass(["count>15", "count=0"])).toEqual([0, 20, 25]);
  });

  it("a range fails every value that is not an integer kind", () => {
    expect(dataFilter("n>1")(withStr("n", "5"))).toBe(false);
    expect(dataFilter("n<1")(withData({ name: "n", bool: false }))).toBe(false);
    expect(dataFilter("n>1", "n!=x")(withStr("n", "abc"))).toBe(false);
    // An = value still passes text.
    expect(compileFilters({ dataFilters: ["n>1", "n=abc"] })(withStr("n", "abc"))).toBe(true);
  });

  it("wildcards test an integer's decimal text", () => {
    const event = withData({ name: "inode", uInt64: 1966101n }, { name: "mode", uInt32: 438 });
    expect(dataFilter("inode=19*")(event)).toBe(true);
    expect(dataFilter("inode=*101")(event)).toBe(true);
    expect(dataFilter("mode=*3*")(event)).toBe(true);
    expect(dataFilter("mode!=4*")(event)).toBe(false);
    expect(dataFilter("mode!=5*")(event)).toBe(true);
  });
});

describe("data filters: other kinds", () => {
  it("bool compares as true / false", () => {
    const event = SAMPLES[5] as TraceeEvent; // sched_process_exec, invoked_from_kernel: false
    expect(dataFilter("invoked_from_kernel=false")(event)).toBe(true);
    expect(dataFilter("invoked_from_kernel=true")(event)).toBe(false);
    expect(dataFilter("invoked_from_kernel!=true")(event)).toBe(true);
    expect(dataFilter("invoked_from_kernel=0")(event)).toBe(false);
  });

  it("arrays and bytes compare as Go prints a slice: [a b c]", () => {
    const event = withData(
      { name: "argv", strArray: { value: ["/bin/sh", "-c", "id"] } },
      { name: "empty", strArray: { value: [] } },
      { name: "ints", int32Array: { value: [1, -2] } },
      { name: "u64s", uInt64Array: { value: [18446744073709551615n] } },
      { name: "raw", bytes: Buffer.from([1, 2, 255]) },
    );
    expect(dataFilter("argv=[/bin/sh -c id]")(event)).toBe(true);
    expect(dataFilter("argv=*-c*")(event)).toBe(true);
    expect(dataFilter("argv=/bin/sh")(event)).toBe(false);
    expect(dataFilter("empty=[]")(event)).toBe(true);
    expect(dataFilter("ints=[1 -2]")(event)).toBe(true);
    expect(dataFilter("u64s=[18446744073709551615]")(event)).toBe(true);
    expect(dataFilter("raw=[1 2 255]")(event)).toBe(true);
    expect(dataFilter("argv>1")(event)).toBe(false);
  });

  it("a kind without a text form fails every filter, != included", () => {
    const sockaddr = SAMPLES[16] as TraceeEvent; // security_socket_connect, remote_addr: sockaddr
    expect(dataFilter("remote_addr!=x")(sockaddr)).toBe(false);
    const timespec = withData({ name: "t", timespec: { value: 1.5 } }, { name: "s", struct: { a: 1 } }, { name: "none" });
    for (const f of ["t!=1.5", "t=1.5", "s!=x", "none!=x", "t>0"]) {
      expect(dataFilter(f)(timespec), f).toBe(false);
    }
  });

  it("reads a hand-made value with several members as kindOf does (the first in field order)", () => {
    const value: EventValue = { name: "n", int32: 1, str: "x" };
    expect(kindOf(value)).toBe("int32");
    expect(dataFilter("n=1")(withData(value))).toBe(true);
    expect(dataFilter("n=x")(withData(value))).toBe(false);
  });
});

describe("data filters: fields", () => {
  it("a missing argument fails the filter, != included", () => {
    const event = withStr("pathname", "/etc/shadow");
    expect(dataFilter("flags=O_RDONLY")(event)).toBe(false);
    expect(dataFilter("flags!=O_RDONLY")(event)).toBe(false);
    expect(dataFilter("count<10")(event)).toBe(false);
    expect(dataFilter("pathname=/etc/shadow")(withData())).toBe(false);
  });

  it("different fields AND", () => {
    const filter = dataFilter("pathname=/etc/*", "flags!=O_RDONLY");
    const open = (pathname: string, flags: string) => withData({ name: "pathname", str: pathname }, { name: "flags", str: flags });
    expect(filter(open("/etc/shadow", "O_WRONLY"))).toBe(true);
    expect(filter(open("/etc/shadow", "O_RDONLY"))).toBe(false);
    expect(filter(open("/tmp/x", "O_WRONLY"))).toBe(false);
  });

  it("the first argument of a name decides", () => {
    const event = withData({ name: "p", str: "a" }, { name: "p", str: "b" });
    expect(dataFilter("p=a")(event)).toBe(true);
    expect(dataFilter("p=b")(event)).toBe(false);
  });

  it("returnValue can be filtered", () => {
    const openat = SAMPLES[1] as TraceeEvent; // returnValue: int64 3
    expect(dataFilter("returnValue=3")(openat)).toBe(true);
    expect(dataFilter("returnValue<0")(openat)).toBe(false);
    expect(dataFilter("returnValue>=0")(openat)).toBe(true);
  });

  it("works on a detector's output arguments", () => {
    const dropped = SAMPLES[14] as TraceeEvent; // dropped_executable, path: str
    const path = (dropped.data[0] as EventValue).str as string;
    expect(dataFilter(`path=${path}`)(dropped)).toBe(true);
    expect(dataFilter(`path!=${path}`)(dropped)).toBe(false);
  });
});

describe("data filters on Tracee's sample lines", () => {
  it("selects the lines whose arguments match", () => {
    expect(sampleIndexes(dataFilter("pathname=/tmp/*"))).toEqual([0, 1]);
    expect(sampleIndexes(dataFilter("pathname=*exa"))).toEqual([5]);
    expect(sampleIndexes(dataFilter("pathname!=/tmp/*"))).toEqual([2, 4, 5]);
    expect(sampleIndexes(dataFilter("dev=271581185"))).toEqual([0, 5]);
    expect(sampleIndexes(dataFilter("inode>1000000"))).toEqual([0, 5]);
    expect(sampleIndexes(dataFilter("ctime>1653730234432691496"))).toEqual([0]);
    expect(sampleIndexes(dataFilter("ctime>=1653730234432691496"))).toEqual([0, 5]);
    expect(sampleIndexes(dataFilter("dirfd=-100"))).toEqual([1]);
    expect(sampleIndexes(dataFilter("argv=*bridge*"))).toEqual([4]);
    expect(sampleIndexes(dataFilter("dst_port=53,80"))).toEqual(
      SAMPLES.flatMap((e, i) => (e.data.some((d) => d.name === "dst_port" && (d.uInt32 === 53 || d.uInt32 === 80)) ? [i] : [])),
    );
    expect(sampleIndexes(dataFilter("pathname=/tmp/*", "flags=*O_TRUNC*"))).toEqual([0, 1]);
    expect(sampleIndexes(dataFilter("pathname=/tmp/*", "mode=438"))).toEqual([1]);
  });
});

describe("scope filters: container", () => {
  const host = ev({});
  const init = ev({ container: { id: "abc123def456", started: false } });
  const running = ev({ container: { id: "abc123def456", started: true } });
  const other = ev({ container: { id: "fff000", started: true } });
  const all = { host, init, running, other };
  const pass = (...filters: string[]) =>
    Object.entries(all)
      .filter(([, e]) => scopeFilter(...filters)(e))
      .map(([k]) => k);

  it("container, host, not-container", () => {
    expect(pass("container")).toEqual(["init", "running", "other"]);
    expect(pass("host")).toEqual(["host"]);
    expect(pass("not-container")).toEqual(["host"]);
    expect(pass("container", "host")).toEqual(["host", "init", "running", "other"]);
  });

  it("container=started", () => {
    expect(pass("container=started")).toEqual(["running", "other"]);
  });

  it("container=<id> matches the id or its leading part; != any other container", () => {
    expect(pass("container=abc123def456")).toEqual(["init", "running"]);
    expect(pass("container=abc123")).toEqual(["init", "running"]);
    expect(pass("container=fff000,abc")).toEqual(["init", "running", "other"]);
    expect(pass("container!=abc")).toEqual(["other"]);
    expect(pass("container=abc", "container=started")).toEqual(["running"]);
  });

  it("container fields: id, name, image, digest (and in a container)", () => {
    const full = ev({
      container: { id: "95e88e281c4b", name: "app", image: { id: "sha256:1", name: "docker.io/library/nginx:1.25", repoDigests: ["nginx@sha256:abc", "x@sha256:def"] } },
    });
    const yes = ["containerId=95e88e281c4b", "containerId=95e8*", "containerName=app", "containerName!=db", "containerImage=*nginx*", "containerImage=docker.io/*", "containerImageDigest=nginx@sha256:abc", "containerImageDigest=*:abc"];
    const no = ["containerId=95e88e", "containerName=db", "containerImage=*redis*", "containerImageDigest=x@sha256:def", "containerName!=app"];
    for (const f of yes) expect(scopeFilter(f)(full), f).toBe(true);
    for (const f of no) expect(scopeFilter(f)(full), f).toBe(false);
    // The host: every container field also requires a container, as Tracee's does.
    expect(scopeFilter("containerName!=db")(host)).toBe(false);
    expect(scopeFilter("containerImage!=x")(host)).toBe(false);
  });

  it("pod fields (and in a container)", () => {
    const pod = ev({
      container: { id: "c1" },
      k8s: { pod: { name: "app-75ff449bcd-hfwnz", uid: "0f7ad251", labels: {} }, namespace: { name: "kube-system" } },
    });
    for (const f of ["podName=app-*", "podNamespace=kube-system", "podNamespace!=default", "podUid=0f7ad251"]) {
      expect(scopeFilter(f)(pod), f).toBe(true);
    }
    for (const f of ["podName=db-*", "podNamespace=default", "podUid!=0f7ad251"]) expect(scopeFilter(f)(pod), f).toBe(false);
    expect(scopeFilter("podNamespace!=default")(host)).toBe(false);
  });
});

describe("scope filters: numbers", () => {
  const proc = (pid: number, extra: Partial<NonNullable<BuildEventOptions["process"]>> = {}) => ev({ process: { pid, ...extra } });
  const pids = [0, 1, 500, 999, 1000, 1001, 5000];
  const pass = (...filters: string[]) => pids.filter((pid) => scopeFilter(...filters)(proc(pid)));

  it("the six operators", () => {
    expect(pass("pid=1000")).toEqual([1000]);
    expect(pass("pid=1,1000")).toEqual([1, 1000]);
    expect(pass("pid!=1000")).toEqual([0, 1, 500, 999, 1001, 5000]);
    expect(pass("pid!=1000,0")).toEqual([1, 500, 999, 1001, 5000]);
    expect(pass("pid<1000")).toEqual([0, 1, 500, 999]);
    expect(pass("pid<=1000")).toEqual([0, 1, 500, 999, 1000]);
    expect(pass("pid>1000")).toEqual([1001, 5000]);
    expect(pass("pid>=1000")).toEqual([1000, 1001, 5000]);
  });

  it("combines as Tracee's numeric filter does", () => {
    expect(pass("pid>1000", "pid>500")).toEqual([999, 1000, 1001, 5000]); // the lowest > wins
    expect(pass("pid<500", "pid<1000")).toEqual([0, 1, 500, 999]); // the highest < wins
    expect(pass("pid>1", "pid<1001")).toEqual([500, 999, 1000]); // an interval
    expect(pass("pid>1001", "pid<500")).toEqual([]); // an empty interval
    expect(pass("pid>500", "pid!=1000")).toEqual([999, 1001, 5000]);
    expect(pass("pid>1000", "pid=1")).toEqual([1, 1001, 5000]);
    // Tracee's numeric_test.go "conflict": =50,8 with !=50 passes 50 and 8 only.
    expect([50, 8, 51, 0].filter((pid) => scopeFilter("pid=50,8", "pid!=50")(proc(pid)))).toEqual([50, 8]);
    // As Tracee's sentinels: > the int64 maximum sets no bound.
    expect(pass("pid>9223372036854775807", "pid<1000")).toEqual([0, 1, 500, 999]);
    expect(pass("pid>-1")).toEqual(pids);
  });

  it("every numeric field and alias reads its workload fact", () => {
    const e = ev({ process: { pid: 10, tid: 11, hostPid: 20, hostTid: 21, uid: 1000, ancestors: [{ pid: 9, hostPid: 19 } as never] } });
    const cases: [string, boolean][] = [
      ["pid=10", true],
      ["p=10", true],
      ["processId=10", true],
      ["tid=11", true],
      ["threadId=11", true],
      ["ppid=9", true],
      ["parentProcessId=9", true],
      ["hostPid=20", true],
      ["hostTid=21", true],
      ["hostThreadId=21", true],
      ["uid=1000", true],
      ["userId=1000", true],
      ["uid!=0", true],
      ["uid<1000", false],
      ["pid=20", false],
      ["hostPid=10", false],
    ];
    for (const [f, expected] of cases) expect(scopeFilter(f)(e), f).toBe(expected);
  });

  it("a fact the event lacks is 0, as in Tracee", () => {
    const bare: TraceeEvent = { ...ev({}), workload: undefined };
    expect(scopeFilter("uid=0")(bare)).toBe(true);
    expect(scopeFilter("pid=0", "ppid=0", "hostTid=0")(bare)).toBe(true);
    expect(scopeFilter("uid!=0")(bare)).toBe(false);
    expect(scopeFilter("ppid=0")(ev({}))).toBe(true); // no ancestors
  });

  it("timestamp compares nanoseconds since the epoch", () => {
    const at = (ns: bigint) => ev({ timestamp: ns });
    const t = 1_700_000_000_123_456_789n;
    expect(scopeFilter(`timestamp=${t}`)(at(t))).toBe(true);
    expect(scopeFilter(`timestamp=${t + 1n}`)(at(t))).toBe(false);
    expect(scopeFilter(`timestamp>${t - 1n}`)(at(t))).toBe(true);
    expect(scopeFilter(`timestamp>${t}`)(at(t))).toBe(false);
    expect(scopeFilter(`timestamp>=${t}`)(at(t))).toBe(true);
    expect(scopeFilter(`timestamp<${t + 1_000_000_000n}`)(at(t))).toBe(true);
    expect(scopeFilter(`timestamp<${t}`)(at(t))).toBe(false);
    expect(scopeFilter(`timestamp!=${t}`)(at(t))).toBe(false);
    expect(scopeFilter("timestamp>-1")(at(0n))).toBe(true);
    expect(scopeFilter("timestamp<0")({ ...at(0n), timestamp: undefined })).toBe(false);
  });
});

describe("scope filters: text and executable", () => {
  it("comm and processName, with wildcards", () => {
    const bash = ev({ process: { comm: "bash" } });
    const kubelet = ev({ process: { comm: "kubelet" } });
    for (const [f, b, k] of [
      ["comm=bash", true, false],
      ["processName=bash", true, false],
      ["comm!=bash", false, true],
      ["comm=kube*", false, true],
      ["comm=*sh", true, false],
      ["comm=*ub*", false, true],
      ["comm=bash,kubelet", true, true],
    ] as const) {
      expect([scopeFilter(f)(bash), scopeFilter(f)(kubelet)], f).toEqual([b, k]);
    }
  });

  it("syscall", () => {
    const e = ev({ process: { syscall: "openat" } });
    expect(scopeFilter("syscall=openat")(e)).toBe(true);
    expect(scopeFilter("syscall=open*")(e)).toBe(true);
    expect(scopeFilter("syscall!=openat")(e)).toBe(false);
  });

  it("executable and its aliases compare the exact path", () => {
    const kubectl = ev({ process: { executable: "/usr/bin/kubectl" } });
    const none = ev({});
    for (const name of ["executable", "exec", "bin", "binary"]) {
      expect(scopeFilter(`${name}=/usr/bin/kubectl`)(kubectl), name).toBe(true);
      expect(scopeFilter(`${name}=/usr/bin/kube`)(kubectl), name).toBe(false);
      expect(scopeFilter(`${name}!=/usr/bin/kubectl`)(kubectl), name).toBe(false);
      expect(scopeFilter(`${name}!=/usr/bin/kubectl`)(none), name).toBe(true);
      expect(scopeFilter(`${name}=/usr/bin/kubectl`)(none), name).toBe(false);
    }
    expect(scopeFilter("executable=/bin/sh,/usr/bin/kubectl")(kubectl)).toBe(true);
  });

  it("global passes everything", () => {
    expect(SAMPLES.every((e) => scopeFilter("global")(e))).toBe(true);
  });

  it("different fields AND, scope with data", () => {
    const filter = compileFilters({ scopeFilters: ["container", "comm=cat"], dataFilters: ["pathname=/etc/*"] });
    const make = (comm: string, pathname: string, inContainer: boolean) =>
      buildEvent("security_file_open", {
        process: { comm },
        data: { pathname },
        ...(inContainer ? { container: { id: "c1" } } : {}),
      });
    expect(filter(make("cat", "/etc/shadow", true))).toBe(true);
    expect(filter(make("cat", "/etc/shadow", false))).toBe(false);
    expect(filter(make("vi", "/etc/shadow", true))).toBe(false);
    expect(filter(make("cat", "/tmp/x", true))).toBe(false);
  });

  it("many filters at once", () => {
    const filter = compileFilters({
      scopeFilters: ["container=started", "uid>=1000", "comm!=sh", "pid>1"],
      dataFilters: ["pathname=/etc/*", "flags!=O_RDONLY"],
    });
    const e = buildEvent("openat", {
      process: { pid: 5, uid: 1000, comm: "bash" },
      container: { id: "c1" },
      data: { pathname: "/etc/passwd", flags: "O_WRONLY" },
    });
    expect(filter(e)).toBe(true);
    expect(filter({ ...e, data: [{ name: "pathname", str: "/etc/passwd" }, { name: "flags", str: "O_RDONLY" }] })).toBe(false);
  });
});

describe("scope filters on Tracee's sample lines", () => {
  it("selects the lines whose workload matches", () => {
    expect(sampleIndexes(scopeFilter("container"))).toEqual([9, 14, 15, 16]);
    expect(sampleIndexes(scopeFilter("not-container"))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13]);
    expect(sampleIndexes(scopeFilter("container=started"))).toEqual([9, 14, 15, 16]);
    expect(sampleIndexes(scopeFilter("container=95e88e281c4b"))).toEqual([9]);
    expect(sampleIndexes(scopeFilter("containerId=test-container-*"))).toEqual([15, 16]);
    expect(sampleIndexes(scopeFilter("containerName=app"))).toEqual([14]);
    expect(sampleIndexes(scopeFilter("containerImage=docker.io/library/ubuntu*"))).toEqual([14]);
    expect(sampleIndexes(scopeFilter("podNamespace=default"))).toEqual([14]);
    expect(sampleIndexes(scopeFilter("podName=app-*"))).toEqual([14]);
    expect(sampleIndexes(scopeFilter("executable=/usr/bin/kubectl"))).toEqual([15, 16]);
    expect(sampleIndexes(scopeFilter("comm=systemd-resolve"))).toEqual([7, 8]);
    expect(sampleIndexes(scopeFilter("comm=bash"))).toEqual([0, 1, 3]);
    expect(sampleIndexes(scopeFilter("syscall=execve"))).toEqual([4, 5]);
    // Lines 15 and 16 carry no user: uid reads 0, as Tracee reads it.
    expect(sampleIndexes(scopeFilter("uid=0"))).toEqual([2, 4, 9, 14, 15, 16]);
    expect(sampleIndexes(scopeFilter("uid>=1000"))).toEqual([0, 1, 3, 5, 6, 10, 11, 12, 13]);
    expect(sampleIndexes(scopeFilter("pid=21"))).toEqual([9]);
    expect(sampleIndexes(scopeFilter("hostPid=691018"))).toEqual([9]);
    expect(sampleIndexes(scopeFilter("pid!=2578238", "pid<1000"))).toEqual([7, 8, 9, 14, 15, 16]);
    expect(sampleIndexes(scopeFilter("ppid>0"))).toEqual(
      SAMPLES.flatMap((e, i) => ((e.workload?.process?.ancestors[0]?.pid ?? 0) > 0 ? [i] : [])),
    );
  });
});

describe("FilterSyntaxError", () => {
  it("carries the kind, the filter and the reason, and its message names the filter", () => {
    const error = errorOf({ scopeFilters: ["comm=bash", "mntns=4026531840"] });
    expect(error).toBeInstanceOf(FilterSyntaxError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("FilterSyntaxError");
    expect(error.kind).toBe("scope");
    expect(error.filter).toBe("mntns=4026531840");
    expect(error.reason).toBe("the mount namespace is not available in Tracee's event stream (tracee.v1beta1.Event does not carry it)");
    expect(error.message).toBe(`invalid scope filter "mntns=4026531840": ${error.reason}`);
    expect(isFilterSyntaxError(error)).toBe(true);
    expect(isFilterSyntaxError(new Error("x"))).toBe(false);
    expect(isFilterSyntaxError(null)).toBe(false);
  });

  it("a non-array list is a TypeError", () => {
    expect(() => compileFilters({ dataFilters: "pathname=/x" as never })).toThrow(TypeError);
    expect(() => compileFilters({ scopeFilters: "container" as never })).toThrow(TypeError);
  });

  const DATA_ERRORS: [string, string][] = [
    ["", "the filter is empty"],
    ["pathname", "a data filter needs an operator and a value: field=value, field!=value, field<value, field>value, …"],
    ["=/etc/shadow", "the field name is missing before the operator"],
    ["path name=/x", 'the field name "path name" contains whitespace'],
    ["pid!5", "`!` must be followed by `=` (the operator is `!=`)"],
    ["pathname==/x", "`==` is not an operator: write `=`"],
    ["pathname=", "a value is missing after `=`"],
    ["pathname!=", "a value is missing after `!=`"],
    ["count>=", "a value is missing after `>=`"],
    ["pathname= /x", "the value starts or ends with whitespace"],
    ["pathname=/x ", "the value starts or ends with whitespace"],
    ["comm=a,,b", "a value in the comma-separated list is empty"],
    ["comm=a,", "a value in the comma-separated list is empty"],
    ["pathname=*", '"*" alone would match every value: leave the filter out instead'],
    ["pathname=**", '"**" alone would match every value: leave the filter out instead'],
    ["pathname!=*", '"*" alone would match every value: leave the filter out instead'],
    ["pathname=/a,*", '"*" alone would match every value: leave the filter out instead'],
    ["count>abc", '`>` compares integers, and "abc" is not one'],
    ["count<=1*", '`<=` compares integers, and "1*" is not one'],
    ["count<1.5", '`<` compares integers, and "1.5" is not one'],
    ["count>0x10", '`>` compares integers, and "0x10" is not one'],
    ["count>18446744073709551616", "18446744073709551616 is outside the 64-bit integer range"],
    ["count<-9223372036854775809", "-9223372036854775809 is outside the 64-bit integer range"],
    ["data.pathname=/etc/*", 'name the argument without the policy\'s "data." prefix: pathname=/etc/*'],
  ];

  it.each(DATA_ERRORS)("data filter %j: %s", (filter, reason) => {
    const error = errorOf({ dataFilters: ["pathname=/ok", filter] });
    expect(error.kind).toBe("data");
    expect(error.filter).toBe(filter);
    expect(error.reason).toBe(reason);
    expect(error.message).toBe(`invalid data filter ${JSON.stringify(filter)}: ${reason}`);
  });

  it("a data filter that is not a string", () => {
    const error = errorOf({ dataFilters: [42 as never] });
    expect(error.filter).toBe("42");
    expect(error.reason).toBe("a filter is a string, not number");
    expect(errorOf({ scopeFilters: [null as never] }).reason).toBe("a filter is a string, not null");
  });

  it("data filters against the declared fields", () => {
    const fields = { pathname: "str", addr: "sockaddr", count: "u_int64" } as const;
    expect(errorOf({ fields, dataFilters: ["pathname>3"] }).reason).toBe("`>` compares integers, and pathname is declared str");
    expect(errorOf({ fields, dataFilters: ["addr=1.2.3.4"] }).reason).toBe(
      "addr is declared sockaddr, which has no text form to compare; filter on it in onEvent",
    );
    expect(() => compileFilters({ fields, dataFilters: ["count>3", "pathname=/x", "other>1"] })).not.toThrow();
  });

  const NOT_IN_STREAM = "not available in Tracee's event stream (tracee.v1beta1.Event does not carry it)";
  const SCOPE_ERRORS: [string, string][] = [
    ["", "the filter is empty"],
    ["mntns=4026531840", `the mount namespace is ${NOT_IN_STREAM}`],
    ["mountNamespace=1", `the mount namespace is ${NOT_IN_STREAM}`],
    ["pidns!=4026531836", `the pid namespace is ${NOT_IN_STREAM}`],
    ["pidNamespace=1", `the pid namespace is ${NOT_IN_STREAM}`],
    ["uts=node1", `the UTS namespace name is ${NOT_IN_STREAM}`],
    ["hostName=node1", `the host name is ${NOT_IN_STREAM}`],
    ["cgroupId=1", `the cgroup id is ${NOT_IN_STREAM}`],
    ["processorId=0", `the processor id is ${NOT_IN_STREAM}`],
    ["podSandbox=true", `whether the container is a pod sandbox is ${NOT_IN_STREAM}`],
    [
      "hostParentProcessId=1",
      "Tracee reads hostParentProcessId as hostPid (pkg/filters/scope.go), not as the parent's host pid: write hostPid=… for what Tracee does, or ppid=… for the parent",
    ],
    [
      "tree=476164",
      "tree needs Tracee's process tree (every descendant of a pid); an event carries at most a few ancestors: check event.workload.process.ancestors in onEvent",
    ],
    ["follow", "follow needs to track the children of matching processes as Tracee does in the kernel; a stream consumer sees no such link"],
    ["container=new", "container=new needs to know which containers started after Tracee did, which its event stream does not say"],
    ["container!=new", "container=new needs to know which containers started after Tracee did, which its event stream does not say"],
    ["pid=new", "pid=new needs to know which processes started after Tracee did, which its event stream does not say"],
    ["pid!=new", "pid=new needs to know which processes started after Tracee did, which its event stream does not say"],
    ["executable=host:/usr/bin/ls", `an executable in a given mount namespace needs the namespace, which is ${NOT_IN_STREAM}`],
    ["exec=4026532447:/usr/bin/ls", `an executable in a given mount namespace needs the namespace, which is ${NOT_IN_STREAM}`],
    ["executable=usr/bin/ls", '"usr/bin/ls" is not an absolute path'],
    ["binary=/usr/bin/*", "binary takes exact paths: Tracee's binary filter has no wildcards"],
    ["executable>/usr/bin/ls", "executable compares paths: only `=` and `!=` apply"],
    ["executable", "executable needs an operator and a path, as in executable=/usr/bin/ls"],
    ["not-comm", "only not-container negates a scope; write comm!=value for the others"],
    ["not-host", "only not-container negates a scope; write host!=value for the others"],
    ["host=true", "host takes no operator or value"],
    ["not-container=1", "not-container takes no operator or value"],
    ["global=1", "global takes no operator or value"],
    ["container<1", "container takes `=` or `!=`: container=started, container=<id>"],
    ["container!=started", "Tracee has no filter for containers not yet started: write container and check getContainerStarted in onEvent"],
    ["container=started,abc", "container=started takes no other value"],
    ["container=abc*", "container=<id> takes ids or their leading part (short ids), not wildcards: write containerId=<pattern>"],
    ["comm>a", "comm compares text: only `=` and `!=` apply"],
    ["containerName<=x", "containerName compares text: only `=` and `!=` apply"],
    ["comm", "comm needs an operator and a value, as in comm=value"],
    ["pid", "pid needs an operator and a value, as in pid=1000 or pid>1000"],
    ["uid=root", 'uid takes integers, and "root" is not one'],
    ["pid=1.5", 'pid takes integers, and "1.5" is not one'],
    ["pid=9223372036854775808", "9223372036854775808 is outside the int64 range Tracee parses pid in"],
    ["timestamp>now", 'timestamp takes integers, and "now" is not one'],
    ["comm=*", '"*" alone would match every value: leave the filter out instead'],
    ["comm=", "a value is missing after `=`"],
    [" container", "a field name cannot contain whitespace"],
    ["comm =bash", 'the field name "comm " contains whitespace'],
  ];

  it.each(SCOPE_ERRORS)("scope filter %j: %s", (filter, reason) => {
    const error = errorOf({ scopeFilters: ["container", filter] });
    expect(error.kind).toBe("scope");
    expect(error.filter).toBe(filter);
    expect(error.reason).toBe(reason);
    expect(error.message).toBe(`invalid scope filter ${JSON.stringify(filter)}: ${reason}`);
  });

  it("an unknown scope field lists the known ones", () => {
    const error = errorOf({ scopeFilters: ["image=nginx"] });
    expect(error.reason).toMatch(/^unknown scope field "image"; the scope fields are container, not-container, host, global, p, pid, /);
    for (const name of ["comm", "containerImage", "executable", "timestamp", "podUid"]) expect(error.reason).toContain(name);
  });

  it("global must be alone", () => {
    const error = errorOf({ scopeFilters: ["global", "comm=bash"] });
    expect(error.filter).toBe("global");
    expect(error.reason).toBe("global is the whole scope: it must be the only scope filter");
  });
});

/** Go's fmt.Sprint of an argument, as a reference for the properties (undefined: no text form). */
function goText(value: EventValue): string | undefined {
  switch (kindOf(value)) {
    case "int32":
    case "u_int32":
    case "int64":
    case "u_int64":
    case "pointer":
    case "str":
    case "bool": {
      const v = value.int32 ?? value.int64 ?? value.uInt32 ?? value.uInt64 ?? value.str ?? value.bool ?? value.pointer;
      return String(v);
    }
    case "str_array":
      return `[${value.strArray?.value.join(" ")}]`;
    case "int32_array":
      return `[${value.int32Array?.value.join(" ")}]`;
    case "u_int64_array":
      return `[${value.uInt64Array?.value.join(" ")}]`;
    case "bytes":
      return `[${[...(value.bytes ?? [])].join(" ")}]`;
    default:
      return undefined;
  }
}

/** What a plain value (no wildcard) in a filter must be. */
const plainValue = (s: string) =>
  s !== "" && !s.includes(",") && !s.startsWith("*") && !s.endsWith("*") && !s.startsWith("=") && !/^\s|\s$/.test(s);
/** Field names a filter can carry. */
const plainField = (s: string) => s !== "" && !/[=!<>\s]/.test(s) && !s.startsWith("data.");

describe("properties", () => {
  it("field=value matches exactly the events whose first such argument prints as value; != the other present ones", () => {
    const scenario = traceeEvent.chain((event) => {
      const names = event.data.map((d) => d.name).filter(plainField);
      const field = names.length > 0 ? fc.oneof(fc.constantFrom(...names), fc.constant("absent")) : fc.constant("absent");
      const texts = event.data.map(goText).filter((t): t is string => t !== undefined && plainValue(t));
      const value = fc.oneof(texts.length > 0 ? fc.constantFrom(...texts) : fc.constant("x"), fc.string({ minLength: 1, maxLength: 4 }));
      return fc.tuple(fc.constant(event), field, value.filter(plainValue));
    });
    fc.assert(
      fc.property(scenario, ([event, field, value]) => {
        const first = event.data.find((d) => d.name === field);
        const text = first === undefined ? undefined : goText(first);
        expect(compileFilters({ dataFilters: [`${field}=${value}`] })(event)).toBe(text === value);
        expect(compileFilters({ dataFilters: [`${field}!=${value}`] })(event)).toBe(text !== undefined && text !== value);
      }),
      { numRuns: 300 },
    );
  });

  it("a prefix, suffix or substring wildcard matches as startsWith, endsWith, includes", () => {
    const piece = fc
      .string({ minLength: 1, maxLength: 3 })
      .filter((s) => !s.includes(",") && !s.includes("*") && !s.startsWith("=") && !/^\s|\s$/.test(s));
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), piece, (str, p) => {
        const event = withStr("f", str);
        expect(dataFilter(`f=${p}*`)(event)).toBe(str.startsWith(p));
        expect(dataFilter(`f=*${p}`)(event)).toBe(str.endsWith(p));
        expect(dataFilter(`f=*${p}*`)(event)).toBe(str.includes(p));
        expect(dataFilter(`f!=${p}*`)(event)).toBe(!str.startsWith(p));
      }),
      { numRuns: 300 },
    );
  });

  it("integer comparisons agree with bigint arithmetic on every integer kind", () => {
    const near = (x: bigint) =>
      fc
        .oneof(fc.constant(x), fc.constantFrom(x - 1n, x + 1n), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }))
        .filter((y) => y >= -(2n ** 63n) && y <= 2n ** 64n - 1n);
    const kinds: fc.Arbitrary<[EventValue, bigint]>[] = [
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => [{ name: "n", int32: n }, BigInt(n)]),
      fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((n) => [{ name: "n", uInt32: n }, BigInt(n)]),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => [{ name: "n", int64: n }, n]),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => [{ name: "n", uInt64: n }, n]),
      fc.oneof(fc.constant(2n ** 53n + 1n), fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n })).map((n) => [{ name: "n", uInt64: n }, n]),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => [{ name: "n", pointer: n }, n]),
    ];
    const scenario = fc.oneof(...kinds).chain(([value, x]) => fc.tuple(fc.constant(value), fc.constant(x), near(x)));
    fc.assert(
      fc.property(scenario, fc.constantFrom("=", "!=", "<", "<=", ">", ">="), ([value, x, y], op) => {
        const expected = { "=": x === y, "!=": x !== y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y }[op];
        expect(dataFilter(`n${op}${y}`)(withData(value))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("numeric scope filters agree with a reference of Tracee's rules", () => {
    const op = fc.constantFrom("=", "!=", "<", "<=", ">", ">=");
    const bound = fc.integer({ min: -2, max: 12 });
    fc.assert(
      fc.property(fc.array(fc.tuple(op, bound), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 10 }), (filters, pid) => {
        const equal = new Set<number>();
        const notEqual = new Set<number>();
        let min: number | undefined;
        let max: number | undefined;
        for (const [o, v] of filters) {
          if (o === "=" || o === "<=" || o === ">=") equal.add(v);
          if (o === "!=") notEqual.add(v);
          if (o === "<" || o === "<=") max = max === undefined ? v : Math.max(max, v);
          if (o === ">" || o === ">=") min = min === undefined ? v : Math.min(min, v);
        }
        const expected = equal.has(pid)
          ? true
          : notEqual.has(pid)
            ? false
            : min !== undefined || max !== undefined
              ? (min === undefined || pid > min) && (max === undefined || pid < max)
              : equal.size === 0;
        const filter = compileFilters({ scopeFilters: filters.map(([o, v]) => `pid${o}${v}`) });
        expect(filter(ev({ process: { pid } }))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("comm=value matches exactly the events whose thread name is value", () => {
    fc.assert(
      fc.property(traceeEvent, fc.string({ minLength: 1, maxLength: 6 }).filter(plainValue), (event, value) => {
        const comm = event.workload?.process?.thread?.name ?? "";
        const chosen = plainValue(comm) && comm.length % 2 === 0 ? comm : value;
        expect(scopeFilter(`comm=${chosen}`)(event)).toBe(comm === chosen);
        expect(scopeFilter(`comm!=${chosen}`)(event)).toBe(comm !== chosen);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on any event, for any filter that compiles", () => {
    const filter = compileFilters({
      scopeFilters: ["container=started", "uid>=0", "comm!=x*", "timestamp>0", "containerImageDigest!=*:x", "ppid<4294967296"],
      dataFilters: ["a=1*", "b!=*x*", "c>=5", "d<=18446744073709551615", "e=[]"],
    });
    fc.assert(
      fc.property(traceeEvent, (event) => {
        expect(typeof filter(event)).toBe("boolean");
      }),
      { numRuns: 300 },
    );
  });
});
