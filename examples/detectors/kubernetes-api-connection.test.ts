/**
 * TRC-1013 through the engine, with the sched_process_exec and
 * security_socket_connect pair of test/fixtures/events/v1beta1.ndjson
 * (lines 16 and 17), the events Tracee's own tests feed this detector.
 */
import { decodeEventJson, type TraceeEvent } from "tracee-ds/events";
import { DetectorHarness } from "tracee-ds/testing";
import { afterEach, describe, expect, it } from "vitest";
import { apiAddressFromEnv, createKubernetesApiConnection } from "./kubernetes-api-connection.js";

const CONTAINER = (id: string, started = true) => `"container":{"id":"${id}","name":"","started":${started}}`;
const HEAD = (id: number, name: string, container: string) =>
  `"timestamp":"2025-12-16T10:30:45.123Z","id":${id},"name":"${name}","policies":{"matched":[""]},"workload":{"process":{"executable":{"path":"/usr/bin/kubectl"}}${container}}`;

/** kubectl starting in `container` with `env`. */
function exec(env: readonly string[], container = `,${CONTAINER("test-container-123")}`): TraceeEvent {
  return decodeEventJson(`{${HEAD(1015, "sched_process_exec", container)},"data":[{"name":"env","str_array":{"value":${JSON.stringify(env)}}}]}`);
}

/** kubectl in `container` connecting to `sockaddr` (its JSON). */
function connect(sockaddr: string, container = `,${CONTAINER("test-container-123")}`): TraceeEvent {
  return decodeEventJson(`{${HEAD(1036, "security_socket_connect", container)},"data":[{"name":"sockfd","int32":3},{"name":"remote_addr","sockaddr":${sockaddr}}]}`);
}

const K8S_ENV = ["PATH=/usr/bin", "KUBERNETES_SERVICE_HOST=10.96.0.1", "KUBERNETES_SERVICE_PORT=443"];
const TO_API = `{"sa_family":"AF_INET","sin_addr":"10.96.0.1","sin_port":443}`;

/** What Tracee prints for fixture lines 16 then 17. */
const EXPECTED = `{"timestamp":"2025-12-16T10:30:45.123Z","id":7500,"name":"k8s_api_connection","policies":{"matched":[""]},"workload":{"process":{"executable":{"path":"/usr/bin/kubectl"}},"container":{"id":"test-container-123","name":"","started":true}},"data":[{"name":"ip","str":"10.96.0.1"}],"threat":{"description":"A connection to the kubernetes API server was detected. The K8S API server is the brain of your K8S cluster, adversaries may try and communicate with the K8S API server to gather information/credentials, or even run more containers and laterally expand their grip on your systems.","mitre":{"tactic":{"name":"Discovery"},"technique":{"id":"","name":"Cloud Service Discovery"}},"severity":1,"name":"Kubernetes API server connection detected","properties":{"Category":"discovery","MITRE ATT&CK":"Discovery: Cloud Service Discovery"}},"detected_from":{"id":1036,"name":"security_socket_connect","data":[{"name":"sockfd","int32":3},{"name":"remote_addr","sockaddr":{"sa_family":"AF_INET","sin_addr":"10.96.0.1","sin_port":443}}]}}`;

describe("TRC-1013 k8s_api_connection", () => {
  let h: DetectorHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("prints, for the fixture's exec then connect, Tracee's detection", async () => {
    h = await DetectorHarness.create(createKubernetesApiConnection());
    expect(await h.json(exec(K8S_ENV))).toEqual([]);
    expect(await h.json(connect(TO_API))).toEqual([EXPECTED]);
    // The address stays known: every later connection fires again.
    expect(await h.json(connect(TO_API))).toEqual([EXPECTED]);
  });

  it("matches an IPv6 API address", async () => {
    h = await DetectorHarness.create(createKubernetesApiConnection());
    const v6 = `{"sa_family":"AF_INET6","sin6_addr":"fd00::1","sin6_port":443}`;
    const outputs = await h.feed(exec(["KUBERNETES_SERVICE_HOST=fd00::1"]), connect(v6));
    expect(outputs.map((e) => e.data)).toEqual([[{ name: "ip", str: "fd00::1" }]]);
  });

  it("stays quiet without the address, for other addresses, other families and other containers", async () => {
    h = await DetectorHarness.create(createKubernetesApiConnection());
    expect(await h.json(connect(TO_API))).toEqual([]); // nothing known yet
    expect(await h.json(exec(["PATH=/usr/bin"]), connect(TO_API))).toEqual([]); // no KUBERNETES_SERVICE_HOST
    await h.feed(exec(K8S_ENV));
    expect(
      await h.json(
        connect(`{"sa_family":"AF_INET","sin_addr":"10.96.0.2","sin_port":443}`),
        connect(`{"sa_family":"AF_UNIX","sun_path":"10.96.0.1"}`),
        connect(TO_API, `,${CONTAINER("other-container")}`),
      ),
    ).toEqual([]);
  });

  it("takes both events only from containers that have started", async () => {
    h = await DetectorHarness.create(createKubernetesApiConnection());
    const starting = `,${CONTAINER("test-container-123", false)}`;
    expect(await h.json(exec(K8S_ENV, starting), connect(TO_API, starting), exec(K8S_ENV, ""), connect(TO_API, ""))).toEqual([]);
    expect(h.stats().participants["TRC-1013"]?.processed ?? 0).toBe(0);
    // The address came from a starting container, so it was never learnt.
    expect(await h.json(connect(TO_API))).toEqual([]);
  });

  it("each instance starts with an empty memory", async () => {
    h = await DetectorHarness.create(createKubernetesApiConnection());
    await h.feed(exec(K8S_ENV));
    await h.close();
    h = await DetectorHarness.create(createKubernetesApiConnection());
    expect(await h.json(connect(TO_API))).toEqual([]);
  });
});

describe("apiAddressFromEnv", () => {
  it("reads KUBERNETES_SERVICE_HOST as Tracee does", () => {
    expect(apiAddressFromEnv(K8S_ENV)).toBe("10.96.0.1");
    expect(apiAddressFromEnv(["KUBERNETES_SERVICE_HOST= \t10.0.0.1\u0085 "])).toBe("10.0.0.1");
    expect(apiAddressFromEnv(["A=1", "B=2"])).toBe("");
    expect(apiAddressFromEnv([])).toBe("");
    // The first entry that mentions it wins, and the value starts after the entry's first "=".
    expect(apiAddressFromEnv(["X=KUBERNETES_SERVICE_HOST=1.2.3.4", "KUBERNETES_SERVICE_HOST=5.6.7.8"])).toBe("KUBERNETES_SERVICE_HOST=1.2.3.4");
    // U+FEFF is not white space to Go.
    expect(apiAddressFromEnv(["KUBERNETES_SERVICE_HOST=\ufeff10.0.0.1"])).toBe("\ufeff10.0.0.1");
  });
});
