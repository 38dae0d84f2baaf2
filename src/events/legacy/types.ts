/**
 * The legacy `trace.Event` JSON: what `tracee analyze` reads, what Tracee's
 * legacy signatures receive as their payload, and what older Tracee versions
 * printed with `--output json`.
 *
 * @module
 */

/**
 * A JSON value as the legacy readers return it: `JSON.parse`'s values, except
 * that an integer outside ±(2^53 − 1) is a `bigint`, so no digit is lost.
 *
 * @example
 * ```ts
 * const ctime: LegacyJsonValue = 1657321027326584850n; // too large for a number
 * const flags: LegacyJsonValue = "O_WRONLY|O_CREAT";
 * ```
 */
export type LegacyJsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | LegacyJsonValue[]
  | { [key: string]: LegacyJsonValue };

/**
 * One argument of a legacy event. Go: `trace.Argument` (`ArgMeta` and `Value`).
 *
 * `type` is the type name Tracee gave the argument: a C type in older
 * versions (`"const char*"`, `"unsigned long"`, `"struct sockaddr*"`), a Go
 * type in newer ones (`"string"`, `"uint64"`, `"trace.Pointer"`). `value` is
 * that type as JSON: a number, a string (also for flags Tracee decoded into
 * names, and for pointers printed as `"0x7ffd…"`), an array, or an object
 * (`trace.ProtoTCP`, a sockaddr as a map of strings, …).
 *
 * @example
 * ```ts
 * const pathname: LegacyArgument = { name: "pathname", type: "const char*", value: "/etc/passwd" };
 * ```
 */
export interface LegacyArgument {
  name: string;
  type: string;
  value: LegacyJsonValue;
}

/**
 * The container an event came from (all `""` on the host). Go: `trace.Container`.
 *
 * @example
 * ```ts
 * const c: LegacyContainer = { id: "ae95a93ce0c2", name: "app", image: "docker.io/library/ubuntu:latest", imageDigest: "" };
 * ```
 */
export interface LegacyContainer {
  id: string;
  name: string;
  /** The image name (Go: `ImageName`, JSON key `image`). */
  image: string;
  imageDigest: string;
}

/**
 * The Kubernetes pod an event came from (all empty outside one). Go: `trace.Kubernetes`.
 *
 * @example
 * ```ts
 * const k: LegacyKubernetes = { podName: "app-75ff449bcd-hfwnz", podNamespace: "default", podUID: "0f7ad251", podSandbox: false };
 * ```
 */
export interface LegacyKubernetes {
  podName: string;
  podNamespace: string;
  podUID: string;
  podSandbox: boolean;
}

/**
 * Flags about the event's context. Go: `trace.ContextFlags`.
 *
 * @example
 * ```ts
 * const flags: LegacyContextFlags = { containerStarted: true, isCompat: false };
 * ```
 */
export interface LegacyContextFlags {
  /** The container's entry point had started (so the origin is `"container"`). */
  containerStarted: boolean;
  /** A 32-bit task on a 64-bit kernel. */
  isCompat: boolean;
}

/**
 * What a signature finding carries about the signature. Go: `trace.Metadata`
 * (its keys are Go's field names, capitalised).
 *
 * `Properties` holds the signature's own properties: for Tracee's signatures
 * `Severity` (0–4), `Category` (the MITRE ATT&CK tactic), `Technique`,
 * `external_id` (the technique's id, `T1036`), `signatureID`, `signatureName`, ….
 *
 * @example
 * ```ts
 * const m: LegacyMetadata = {
 *   Version: "1",
 *   Description: "A process used anti-debugging techniques",
 *   Tags: [],
 *   Properties: { Severity: 1, Category: "defense-evasion", signatureName: "Anti-Debugging detected" },
 * };
 * ```
 */
export interface LegacyMetadata {
  Version: string;
  Description: string;
  Tags: string[];
  Properties: { [key: string]: LegacyJsonValue };
}

/**
 * One event in Tracee's legacy JSON. Go: `trace.Event`; the keys are its JSON
 * tags.
 *
 * Every field is present, as in the Go struct: {@link decodeLegacyEventJson}
 * fills what a line lacks with Go's zero value (`0`, `""`, `false`, `[]`),
 * reads a JSON `null` the same way, and moves the older top-level container
 * and pod fields (`containerImage`, `containerName`, `podName`,
 * `podNamespace`, `podUID`, `podSandbox`) into {@link LegacyEvent.container}
 * and {@link LegacyEvent.kubernetes}, where newer Tracee versions print them.
 *
 * Numbers: the nanosecond times (`timestamp`, `threadStartTime`), `cgroupId`
 * and `stackAddresses` are 64-bit in the kernel and routinely above 2^53, so
 * they are always `bigint`. Process and thread ids, `userId`, the namespace
 * ids (32-bit inode numbers) and the entity ids are 32-bit and always
 * `number`. `returnValue` and argument values are a `number`, or a `bigint`
 * only beyond ±(2^53 − 1).
 *
 * @example
 * ```ts
 * const event = decodeLegacyEventJson(line);
 * event.timestamp; // 1657321167356729582n
 * event.eventName; // "openat"
 * event.args.find((a) => a.name === "pathname")?.value; // "/tmp/testing.txt"
 * ```
 */
export interface LegacyEvent {
  /** When the event happened, in nanoseconds since the Unix epoch. */
  timestamp: bigint;
  /** When the thread started, in nanoseconds (since boot in older versions, since the epoch in newer ones). */
  threadStartTime: bigint;
  processorId: number;
  /** The process id in the process's own pid namespace. */
  processId: number;
  cgroupId: bigint;
  threadId: number;
  parentProcessId: number;
  /** The process id in the host's pid namespace. */
  hostProcessId: number;
  hostThreadId: number;
  hostParentProcessId: number;
  userId: number;
  mountNamespace: number;
  pidNamespace: number;
  processName: string;
  executable: { path: string };
  hostName: string;
  /** The container id; the same as `container.id`. */
  containerId: string;
  container: LegacyContainer;
  kubernetes: LegacyKubernetes;
  /**
   * The event id as Tracee's JSON writes it: a decimal string (`"257"`).
   * Tracee's internal number, which differs between versions and architectures.
   */
  eventId: string;
  eventName: string;
  /** Names of the policies the event matched (absent before Tracee had policies). */
  matchedPolicies: string[];
  argsNum: number;
  returnValue: number | bigint;
  /** The system call the thread was in. */
  syscall: string;
  stackAddresses: bigint[];
  contextFlags: LegacyContextFlags;
  threadEntityId: number;
  processEntityId: number;
  parentEntityId: number;
  /** The arguments, in the order Tracee's definition of the event lists them. */
  args: LegacyArgument[];
  /** Set on a signature finding: what the signature says about itself. */
  metadata?: LegacyMetadata | undefined;
}
