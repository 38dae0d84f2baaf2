/**
 * `tracee/containers`: the containers Tracee has seen, rebuilt from the
 * event stream. Ported from `pkg/datastores/container` (the legacy
 * signature data source in `datasource.go`, the container store in
 * `store.go`) and `api/v1beta1/datastores/types.go`.
 *
 * @module
 */
import { dataSourceRef, type DataSourceRef } from "../../detect/data-source.js";
import { ErrDataNotFound } from "../../detect/errors.js";
import { getData } from "../../events/data.js";
import type { Container, K8s, TraceeEvent } from "../../events/model.js";
import {
  type BuiltinDataSource,
  type BuiltinStats,
  checkDuration,
  checkMax,
  describeKey,
  EventClock,
  ExpiryQueue,
  goSchema,
  keyNotSupported,
  LruList,
  strArg,
  u64Arg,
} from "./shared.js";

/** The events the containers source learns from (besides every event's workload container). */
export const CONTAINERS_EVENTS: readonly string[] = Object.freeze([
  "container_create",
  "container_remove",
  "existing_container",
]);

/** Default bound on the containers kept: 4096. */
export const DEFAULT_MAX_CONTAINERS = 4096;
/** Default time a removed container stays queryable (event time): 30 s, Tracee's cgroup expiry. */
export const DEFAULT_REMOVED_RETENTION_MS = 30_000;

/** Options of {@link ContainersDataSource}. */
export interface ContainersOptions {
  /** The most containers kept; the least recently seen go first. Default {@link DEFAULT_MAX_CONTAINERS}. */
  readonly maxEntries?: number;
  /** How long (event time, milliseconds) a removed container stays queryable. Default {@link DEFAULT_REMOVED_RETENTION_MS}. */
  readonly removedRetentionMs?: number;
}

/**
 * What `get(containerId)` returns, the legacy data source's map (Go:
 * `SignaturesDataSource.Get`). `container_ctime` is nanoseconds since the
 * epoch (`0n` when only workloads mentioned the container).
 */
export type ContainerResult = {
  readonly container_id: string;
  readonly container_ctime: bigint;
  readonly container_name: string;
  readonly container_image: string;
  readonly k8s_pod_id: string;
  readonly k8s_pod_name: string;
  readonly k8s_pod_namespace: string;
  readonly k8s_pod_sandbox: boolean;
};

/** A Kubernetes pod. Go: `datastores.K8sPodInfo`. */
export interface K8sPodInfo {
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
  readonly sandbox: boolean;
}

/** A container, as Tracee's container store gives it. Go: `datastores.ContainerInfo`. */
export interface ContainerInfo {
  readonly id: string;
  readonly name: string;
  /** The image name: `"nginx:latest"`. */
  readonly image: string;
  readonly imageDigest: string;
  /** `"docker"`, `"containerd"`, `"crio"`, … (`""` when only workloads mentioned it). */
  readonly runtime: string;
  /** Creation time, nanoseconds since the epoch (`0n`: unknown). */
  readonly startTime: bigint;
  /** The pod, or `undefined` outside Kubernetes. */
  readonly pod: K8sPodInfo | undefined;
  /** Whether its init process started (the workload's `started`). (Not in Tracee's struct.) */
  readonly started: boolean;
  /** Whether `container_remove` was seen for it. (Not in Tracee's struct.) */
  readonly removed: boolean;
}

/** A typed reference to the containers source: `ctx.getDataSource(containersRef)`. */
export const containersRef: DataSourceRef<ContainersDataSource> = dataSourceRef<ContainersDataSource>(
  "tracee",
  "containers",
);

const SCHEMA = goSchema({
  container_id: "string",
  container_ctime: "int",
  container_name: "string",
  container_image: "string",
  k8s_pod_id: "string",
  k8s_pod_name: "string",
  k8s_pod_namespace: "string",
  k8s_pod_sandbox: "bool",
});

interface Entry {
  readonly id: string;
  name: string;
  image: string;
  imageDigest: string;
  runtime: string;
  ctime: bigint;
  podName: string;
  podUid: string;
  podNamespace: string;
  sandbox: boolean;
  started: boolean;
  /** Event time (ms) of its removal, 0 while it lives. */
  removedMs: number;
  older: Entry | undefined;
  newer: Entry | undefined;
}

/**
 * Tracee's containers data source (`tracee`/`containers`, version 1),
 * rebuilt from `container_create`, `existing_container`, `container_remove`
 * and the container (and pod) in the workload of every event.
 *
 * Keyed by container id (a string; anything else is `ErrKeyNotSupported`).
 * Bounded: at most `maxEntries` containers, the least recently seen evicted
 * first; a removed container stays `removedRetentionMs` (Tracee keeps a
 * removed cgroup's container for 30 s), then goes.
 *
 * @example
 * ```ts
 * const containers = new ContainersDataSource();
 * containers.observe(event);
 * containers.get(getContainerId(event)).container_image; // "nginx:latest"
 * ```
 */
export class ContainersDataSource implements BuiltinDataSource<string, ContainerResult> {
  readonly events: readonly string[] = CONTAINERS_EVENTS;
  readonly #entries = new Map<string, Entry>();
  readonly #lru = new LruList<Entry>();
  readonly #clock = new EventClock();
  readonly #max: number;
  readonly #retention: number;
  /** Ids of removed containers, in removal order: each goes once its retention passed. */
  readonly #removed = new ExpiryQueue<string>();
  #evictions = 0;
  #expired = 0;

  constructor(options: ContainersOptions = {}) {
    this.#max = checkMax("maxEntries", options.maxEntries, DEFAULT_MAX_CONTAINERS);
    this.#retention = checkDuration("removedRetentionMs", options.removedRetentionMs, DEFAULT_REMOVED_RETENTION_MS);
  }

  /** The container `containerId`. Go: `Get`. Throws `ErrKeyNotSupported` for a non-string, `ErrDataNotFound` for an unknown id. */
  get(containerId: string): ContainerResult {
    if (typeof containerId !== "string") {
      throw keyNotSupported("containers", `expected a container id (a string), got ${describeKey(containerId)}`);
    }
    const e = this.#entries.get(containerId);
    if (e === undefined) throw ErrDataNotFound;
    return Object.freeze({
      container_id: e.id,
      container_ctime: e.ctime,
      container_name: e.name,
      container_image: e.image,
      k8s_pod_id: e.podUid,
      k8s_pod_name: e.podName,
      k8s_pod_namespace: e.podNamespace,
      k8s_pod_sandbox: e.sandbox,
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
    return "containers";
  }

  /** The container `id`, or `undefined`. Go: `ContainerStore.GetContainer`. */
  container(id: string): ContainerInfo | undefined {
    const e = this.#entries.get(id);
    return e === undefined ? undefined : info(e);
  }

  /** The first container named `name`, or `undefined`. Go: `ContainerStore.GetContainerByName`. */
  containerByName(name: string): ContainerInfo | undefined {
    for (const e of this.#entries.values()) if (e.name === name) return info(e);
    return undefined;
  }

  /** The containers not removed. Go: `ContainerStore.ListContainers` (without filters). */
  list(): ContainerInfo[] {
    const out: ContainerInfo[] = [];
    for (const e of this.#entries.values()) if (e.removedMs === 0) out.push(info(e));
    return out;
  }

  observe(event: TraceeEvent): void {
    this.#clock.tick(event.timestamp);
    // Expire first: an event citing a container removed long ago brings it back, fresh.
    this.#removed.consume(this.#expire);
    const workload = event.workload;
    const c = workload?.container;
    if (c !== undefined && c.id !== "") this.#fromWorkload(c, workload?.k8s);
    switch (event.name) {
      case "container_create":
      case "existing_container":
        this.#fromEvent(event);
        break;
      case "container_remove":
        this.#onRemove(event);
        break;
    }
    while (this.#entries.size > this.#max) {
      this.#delete(this.#lru.oldest as Entry);
      this.#evictions++;
    }
  }

  stats(): BuiltinStats {
    return { entries: this.#entries.size, maxEntries: this.#max, evictions: this.#evictions, expired: this.#expired };
  }

  clear(): void {
    this.#entries.clear();
    this.#lru.clear();
    this.#clock.reset();
    this.#removed.clear();
    this.#evictions = 0;
    this.#expired = 0;
  }

  #touch(id: string): Entry {
    let e = this.#entries.get(id);
    if (e === undefined) {
      e = {
        id,
        name: "",
        image: "",
        imageDigest: "",
        runtime: "",
        ctime: 0n,
        podName: "",
        podUid: "",
        podNamespace: "",
        sandbox: false,
        started: false,
        removedMs: 0,
        older: undefined,
        newer: undefined,
      };
      this.#entries.set(id, e);
      this.#lru.push(e);
    } else {
      this.#lru.touch(e);
    }
    return e;
  }

  #delete(e: Entry): void {
    this.#entries.delete(e.id);
    this.#lru.remove(e);
  }

  #fromWorkload(c: Container, k8s: K8s | undefined): void {
    const e = this.#touch(c.id);
    if (c.name !== "") e.name = c.name;
    const image = c.image;
    if (image !== undefined) {
      if (image.name !== "") e.image = image.name;
      const digest = image.repoDigests[0];
      if (digest !== undefined && digest !== "") e.imageDigest = digest;
    }
    if (c.started) e.started = true;
    if (k8s !== undefined) {
      const pod = k8s.pod;
      if (pod !== undefined) {
        if (pod.name !== "") e.podName = pod.name;
        if (pod.uid !== "") e.podUid = pod.uid;
      }
      const ns = k8s.namespace?.name;
      if (ns !== undefined && ns !== "") e.podNamespace = ns;
    }
  }

  /** `container_create` / `existing_container`: the full facts. */
  #fromEvent(event: TraceeEvent): void {
    const id = strArg(event, "container_id");
    if (id === undefined || id === "") return;
    const e = this.#touch(id);
    e.removedMs = 0;
    const set = (name: string, apply: (v: string) => void) => {
      const v = strArg(event, name);
      if (v !== undefined && v !== "") apply(v);
    };
    set("runtime", (v) => (e.runtime = v));
    set("container_image", (v) => (e.image = v));
    set("container_image_digest", (v) => (e.imageDigest = v));
    set("container_name", (v) => (e.name = v));
    set("pod_name", (v) => (e.podName = v));
    set("pod_namespace", (v) => (e.podNamespace = v));
    set("pod_uid", (v) => (e.podUid = v));
    const ctime = u64Arg(event, "ctime");
    if (ctime !== undefined && ctime !== 0n) e.ctime = ctime;
    const sandbox = getData(event, "pod_sandbox", "bool");
    if (sandbox !== undefined) e.sandbox = sandbox;
  }

  #onRemove(event: TraceeEvent): void {
    const id = strArg(event, "container_id");
    if (id === undefined) return;
    const e = this.#entries.get(id);
    if (e === undefined || e.removedMs !== 0) return;
    e.removedMs = this.#clock.ms || 1;
    this.#removed.push(id);
  }

  /** One removal from the queue: stops at one still retained; drops the container once expired. */
  readonly #expire = (id: string): boolean => {
    const e = this.#entries.get(id);
    if (e === undefined || e.removedMs === 0) return true; // evicted, or created again
    if (e.removedMs + this.#retention > this.#clock.ms) return false;
    this.#delete(e);
    this.#expired++;
    return true;
  };

}

function info(e: Entry): ContainerInfo {
  const pod: K8sPodInfo | undefined =
    e.podName !== "" || e.podUid !== ""
      ? Object.freeze({ name: e.podName, uid: e.podUid, namespace: e.podNamespace, sandbox: e.sandbox })
      : undefined;
  return Object.freeze({
    id: e.id,
    name: e.name,
    image: e.image,
    imageDigest: e.imageDigest,
    runtime: e.runtime,
    startTime: e.ctime,
    pod,
    started: e.started,
    removed: e.removedMs !== 0,
  });
}
