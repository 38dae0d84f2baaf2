/**
 * TRC-1013 `k8s_api_connection`, ported from Tracee's Go detector
 * (detectors/kubernetes_api_connection.go).
 *
 * Kubernetes tells every container where its API server is through the
 * `KUBERNETES_SERVICE_HOST` environment variable. The detector remembers that
 * address per container from the environment of the programs it starts
 * (`sched_process_exec`), and fires when a process in the same container
 * connects to it (`security_socket_connect`): talking to the API server is
 * how an intruder in a pod looks for credentials or starts more workloads.
 *
 * Both events only from containers that have started, as in Tracee. The
 * environment is in `sched_process_exec` only when Tracee runs with the
 * exec-env enrichment (`--output option:exec-env`); Tracee's detector
 * declares that requirement, which this API has no field for.
 */
import { defineDetector, type Detector, type DetectorLogger } from "tracee-ds/engine";
import { getContainerId, getData, newStringValue, SaFamily, Severity } from "tracee-ds/events";

const definition = {
  id: "TRC-1013",
  requirements: {
    events: [
      { name: "sched_process_exec", scopeFilters: ["container=started"] },
      { name: "security_socket_connect", scopeFilters: ["container=started"] },
    ],
  },
  producedEvent: {
    name: "k8s_api_connection",
    description: "Kubernetes API server connection detected",
    version: "0.1.0",
  },
  threat: {
    name: "Kubernetes API server connection detected",
    description:
      "A connection to the kubernetes API server was detected. The K8S API server is the brain of your K8S cluster, adversaries may try and communicate with the K8S API server to gather information/credentials, or even run more containers and laterally expand their grip on your systems.",
    severity: Severity.LOW,
    mitre: {
      tactic: { name: "Discovery" },
      technique: { id: "", name: "Cloud Service Discovery" },
    },
    properties: {
      Category: "discovery",
      "MITRE ATT&CK": "Discovery: Cloud Service Discovery",
    },
  },
  autoPopulate: { threat: true, detectedFrom: true },
} as const;

/** Go's `strings.TrimSpace`: Unicode white space (U+0085 included, U+FEFF not) off both ends. */
const GO_SPACE = "[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+";
const TRIM = new RegExp(`^${GO_SPACE}|${GO_SPACE}$`, "g");

/**
 * The API server address in `env`: from the first entry that contains
 * `KUBERNETES_SERVICE_HOST=`, what follows its first `=`, trimmed, as Tracee
 * reads it; `""` when there is none.
 */
export function apiAddressFromEnv(env: readonly string[]): string {
  const entry = env.find((e) => e.includes("KUBERNETES_SERVICE_HOST="));
  if (entry === undefined) return "";
  return entry.slice(entry.indexOf("=") + 1).replace(TRIM, "");
}

/**
 * A new TRC-1013 detector. Its memory of API addresses (container id →
 * address) starts empty at `init` and grows with the containers seen.
 */
export function createKubernetesApiConnection(): Detector<typeof definition> {
  let apiAddressByContainer = new Map<string, string>();
  let logger: DetectorLogger | undefined;
  return defineDetector({
    definition,
    init(params) {
      logger = params.logger;
      apiAddressByContainer = new Map();
    },
    onEvent(event) {
      const containerId = getContainerId(event);
      if (containerId === "") return undefined;
      if (event.name === "sched_process_exec") {
        const address = apiAddressFromEnv(getData(event, "env", "str_array") ?? []);
        if (address !== "") {
          apiAddressByContainer.set(containerId, address);
          logger?.debugw("Kubernetes API address remembered", "container", containerId, "api_ip", address);
        }
        return undefined;
      }
      const address = apiAddressByContainer.get(containerId);
      if (address === undefined) return undefined;
      const remote = getData(event, "remote_addr", "sockaddr");
      if (remote === undefined) return undefined;
      const ip = remote.saFamily === SaFamily.AF_INET ? remote.sinAddr : remote.saFamily === SaFamily.AF_INET6 ? remote.sin6Addr : undefined;
      if (ip !== address) return undefined;
      logger?.debugw("Kubernetes API connection", "container", containerId, "api_ip", address);
      return [{ data: [newStringValue("ip", address)] }];
    },
    close() {
      apiAddressByContainer.clear();
    },
  });
}

export const kubernetesApiConnection = createKubernetesApiConnection();

export default kubernetesApiConnection;
