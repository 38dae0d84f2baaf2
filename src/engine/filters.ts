/**
 * A requirement's `dataFilters` and `scopeFilters`, compiled once into a
 * predicate the engine runs on every event before `onEvent`. The grammar is
 * the one Tracee's detector registry parses (`pkg/detectors/registry.go`
 * into `pkg/filters`: `DataFilter`, `ScopeFilter`), with the scope keywords
 * of Tracee's policies (`not-container`, `container=<id>`, `executable=`)
 * a detector author is likely to write; what a stream consumer cannot
 * evaluate is refused with a {@link FilterSyntaxError} at registration.
 *
 * ## Shape
 *
 * A filter is `field` (a scope flag), or `field` `op` `values`: `op` is the
 * first `=`, `!=`, `<`, `<=`, `>` or `>=` in the text; `values` is one value
 * or several separated by commas (`comm=bash,sh`), none empty, with no
 * whitespace at either end of the list. A value cannot contain a comma, and
 * the first after `=` cannot start with `=` (`==` is refused as a typo).
 *
 * Filters on the same field merge (as Tracee merges them into one filter per
 * field); different fields, and data with scope, AND. Within one field:
 *
 * - an `=` value that matches passes the event, whatever the `!=` values say;
 * - otherwise a `!=` value that matches fails it;
 * - otherwise a range (`<`, `<=`, `>`, `>=`) decides, when the field has one:
 *   bounds are exclusive (`<=` and `>=` add their value as an `=`), several
 *   `>` keep the lowest bound and several `<` the highest (so they OR), and a
 *   `>` with a `<` makes an interval (`pid>1000`, `pid<2000`: between them);
 * - otherwise the event passes if the field had `!=` values, and fails if
 *   it had `=` values only. (The scope's numeric fields differ when the
 *   field mixes `=` and `!=`: then it fails, so `uid=0`, `uid!=1` passes 0
 *   only, as Tracee's numeric filter does.)
 *
 * So `pathname=/etc/passwd` and `pathname=/etc/shadow` pass either file;
 * `comm!=bash,sh` passes anything but those two; but `comm=kube*` with
 * `comm!=kubectl` passes every name (kubectl matches the `=`, which wins;
 * any other is not excluded), as in Tracee: mix `=` and `!=` on one text
 * field only to carve exceptions out of a `!=` wildcard
 * (`comm!=kube*`, `comm=kubectl`: anything but kube… names, kubectl included).
 *
 * ## Text values and `*`
 *
 * Where text is compared (data filters, the scope's `comm`, `syscall`,
 * `container…` and `pod…` fields), a value ending in `*` matches by prefix
 * (`pathname=/etc/*`), one starting with `*` by suffix (`pathname=*shadow`),
 * one with both by substring (`pathname=*kube*`), with `=` and `!=` alike.
 * A `*` anywhere else is a literal character; `*` and `**` alone are
 * refused.
 *
 * ## Data filters (`dataFilters`)
 *
 * `arg=value`, `arg!=value`: `arg` is an argument name in `event.data` (the
 * first of that name, without the policy's `data.` prefix). An event without
 * the argument fails the filter, `!=` included. As in Tracee, the argument's
 * value is compared as Go's `fmt.Sprint` prints it: a `str` as is, integers
 * (`int32`, `u_int32`, `int64`, `u_int64`, and `pointer`, which Tracee
 * prints in decimal) in canonical decimal (`count=42` matches 42, `042` and
 * `+42` never do; `u_int64` compares exactly beyond 2^53), a `bool` as
 * `true` / `false`, arrays and `bytes` as `[a b c]`. A value of another kind
 * (sockaddr, the network kinds, `struct`, `timespec`) fails every data
 * filter: filter on it in `onEvent`.
 *
 * `arg<n`, `arg<=n`, `arg>n`, `arg>=n` compare integer kinds as integers,
 * bigint-aware (`n` decimal, within int64 / uint64); any other kind fails
 * them. These are tracee-ds's: Tracee's data filters are text only and
 * refuse them (`unsupported operator`).
 *
 * When the requirement declares `fields`, a filter on a declared argument is
 * checked against its kind: a range on a non-integer kind, or any filter on
 * a kind without a text form, is refused.
 *
 * Unlike Tracee: the argument name is not checked against the event's
 * definition (a misspelt name fails every event), `returnValue` can be
 * filtered (Tracee skips it), and `syscall` values of `sys_enter` and
 * similar events are not translated between names and numbers.
 *
 * ## Scope filters (`scopeFilters`)
 *
 * | Filter | Matches | Operators |
 * | --- | --- | --- |
 * | `container` | events in a container (`workload.container.id` set) | flag |
 * | `host`, `not-container` | events on the host | flag |
 * | `container=started` | events in a container that has started (`started`) | `=` |
 * | `container=<id>[,<id>…]` | a container whose id starts with one of them (short ids work); `!=`: any other container | `=` `!=` |
 * | `pid`, `p`, `processId` | the pid in its namespace (`process.pid`) | all six |
 * | `tid`, `threadId` | the thread id in its namespace | all six |
 * | `ppid`, `parentProcessId` | the parent's pid (`process.ancestors[0]`, 0 without ancestors) | all six |
 * | `hostPid` / `hostTid`, `hostThreadId` | the host pid / tid | all six |
 * | `uid`, `userId` | the real user id | all six |
 * | `timestamp` | the event time, in nanoseconds since the epoch | all six |
 * | `comm`, `processName` | the thread name | `=` `!=`, `*` |
 * | `syscall` | the system call the thread was in | `=` `!=`, `*` |
 * | `containerId`, `containerName`, `containerImage`, `containerImageDigest` | the container's id, name, image name, first repo digest (and: in a container) | `=` `!=`, `*` |
 * | `podName`, `podNamespace`, `podUid` | the Kubernetes pod (and: in a container) | `=` `!=`, `*` |
 * | `executable`, `exec`, `bin`, `binary` | the executable's path, exact | `=` `!=` |
 * | `global` | everything (only alone) | flag |
 *
 * A fact the event lacks reads as Go's zero value (0, `""`, false), as in
 * Tracee: `uid=0` passes an event without a user.
 *
 * Refused, with the reason: `mntns`, `pidns`, `uts`, `hostName`,
 * `cgroupId`, `processorId`, `podSandbox` (not in `tracee.v1beta1.Event`);
 * `container=new`, `pid=new` (need to know when Tracee started); `tree=`
 * (needs Tracee's process tree); `follow` (needs to follow children across
 * events); `executable=host:/…`, `executable=<mntns>:/…` (need the mount
 * namespace); `hostParentProcessId` (Tracee reads it as `hostPid`); `not-`
 * before anything but `container`; `<` / `>` on text fields; unknown fields.
 *
 * Unlike Tracee: `pid!=5` alone passes every pid but 5 (Tracee's userspace
 * numeric filter passes nothing when given only `!=`); `container=<id>`,
 * `not-container` and `executable=` come from Tracee's policy scopes
 * (`--scope`), where `pid` and `uid` are matched in the kernel (there `pid`
 * is the host pid or tid; here, as in detectors, the namespace pid);
 * `containerImageDigest` is compared (Tracee's detector dispatch parses it
 * but never evaluates it).
 *
 * ## Cost
 *
 * Compiling does all the parsing; the compiled filter reads the event's
 * workload and walks `event.data` once per filtered argument, with set
 * lookups and no allocation, except where text must be built: a wildcard
 * value tested against an integer argument, and arrays and `bytes`.
 *
 * @example
 * ```ts
 * const filter = compileFilters({
 *   dataFilters: ["pathname=/etc/shadow,/etc/sudoers*", "flags!=O_RDONLY"],
 *   scopeFilters: ["container", "uid>=1000"],
 * });
 * filter(event); // true or false
 * ```
 *
 * @module
 */
import type { EventValueKind, TraceeEvent } from "../events/model.js";
import { compileDataFilters } from "./filters/data.js";
import { compileScopeFilters } from "./filters/scope.js";

export { FilterSyntaxError, type FilterKind, isFilterSyntaxError } from "./filters/syntax.js";

/** A predicate over events, compiled from a requirement's filters. */
export type EventFilter = (event: TraceeEvent) => boolean;

/** What {@link compileFilters} reads from a requirement (an `EventRequirement` fits). */
export interface FilterRequirement {
  /** Data filters: `pathname=/etc/*`, `count>3`, … */
  readonly dataFilters?: readonly string[] | undefined;
  /** Scope filters: `container`, `comm=bash`, `uid!=0`, … */
  readonly scopeFilters?: readonly string[] | undefined;
  /** The declared kinds of the arguments, to check data filters against. */
  readonly fields?: Readonly<Record<string, EventValueKind>> | undefined;
}

/** The filter of a requirement without filters. */
const MATCH_ALL: EventFilter = () => true;

/** Whether `requirement` has any filter (when not, {@link compileFilters} gives a filter that passes everything). */
export function hasFilters(requirement: FilterRequirement): boolean {
  return (requirement.dataFilters?.length ?? 0) + (requirement.scopeFilters?.length ?? 0) > 0;
}

/**
 * Compiles a requirement's scope and data filters (see the module's grammar)
 * into one predicate: true when the event passes all of them. Throws a
 * {@link FilterSyntaxError} naming the first filter it cannot compile.
 */
export function compileFilters(requirement: FilterRequirement): EventFilter {
  const { dataFilters, scopeFilters } = requirement;
  if (dataFilters !== undefined && !Array.isArray(dataFilters)) throw new TypeError("dataFilters must be an array of strings");
  if (scopeFilters !== undefined && !Array.isArray(scopeFilters)) throw new TypeError("scopeFilters must be an array of strings");
  // Scope first: workload reads are cheaper than walking the arguments.
  const tests = [...compileScopeFilters(scopeFilters ?? []), ...compileDataFilters(dataFilters ?? [], requirement.fields)];
  switch (tests.length) {
    case 0:
      return MATCH_ALL;
    case 1:
      return tests[0] as EventFilter;
    case 2: {
      const [a, b] = tests as [EventFilter, EventFilter];
      return (event) => a(event) && b(event);
    }
    case 3: {
      const [a, b, c] = tests as [EventFilter, EventFilter, EventFilter];
      return (event) => a(event) && b(event) && c(event);
    }
    default:
      return (event) => {
        for (let i = 0; i < tests.length; i++) if (!(tests[i] as EventFilter)(event)) return false;
        return true;
      };
  }
}
