/**
 * `ip_reputation_connection`: a process connects to an address a source of
 * the `ip_reputation` datastore denies. Not a port of a Tracee detector: it
 * shows a detector reading Tracee's `ip_reputation` store, which threat feeds
 * and allow lists write over `DataStoreService` while detectors run.
 *
 * The detector requires the store, and registers one when nobody did (as
 * Tracee's e2e writable store detector does): `tracee-ds run --detectors
 * examples/detectors` registers the store this module exports, so `--serve`
 * can take writes into it; a test may pass its own. When sources disagree,
 * the store's conflict policy picks the verdict (last write wins by
 * default); the detector fires when that verdict is `deny`, with the
 * severity (1-10) mapped to the threat's.
 */
import { type IPReputationStore, ipReputationStore } from "tracee-ds";
import { defineDetector, type Detector, storeRef } from "tracee-ds/engine";
import { newInt32Value, newStringValue, newValue, SaFamily, Severity, type Threat } from "tracee-ds/events";

/** The store's name, as Tracee registers it. */
export const IP_REPUTATION = "ip_reputation";

/** A typed handle on the store, for `params.dataStores.get`. */
export const IpReputationRef = storeRef<IPReputationStore>(IP_REPUTATION);

const threat: Threat = {
  name: "Connection to a denied IP address",
  description:
    "A process connected to an IP address that a reputation source denies. Denied addresses are known command and control servers, malware distribution points or scanners.",
  severity: Severity.HIGH,
  mitre: {
    tactic: { name: "Command and Control" },
    technique: { id: "T1071", name: "Application Layer Protocol" },
  },
  properties: { Category: "command-and-control" },
};

const definition = {
  id: "IP_REPUTATION_CONNECTION",
  requirements: {
    events: [{ name: "security_socket_connect", fields: { remote_addr: "sockaddr" } }],
    dataStores: [{ name: IP_REPUTATION }],
  },
  producedEvent: {
    name: "ip_reputation_connection",
    description: "Connection to an IP address a reputation source denies",
    version: "0.1.0",
    fields: [
      { name: "ip", type: "string" },
      { name: "port", type: "u16" },
      { name: "severity", type: "int32" },
      { name: "tags", type: "[]string" },
      { name: "source", type: "string" },
    ],
  },
  threat,
  autoPopulate: { detectedFrom: true },
} as const;

/** A reputation's severity (1-10) as a threat severity: 1-3 low, 4-6 medium, 7-8 high, 9-10 critical. */
export function threatSeverity(severity: number): Severity {
  if (severity >= 9) return Severity.CRITICAL;
  if (severity >= 7) return Severity.HIGH;
  if (severity >= 4) return Severity.MEDIUM;
  return Severity.LOW;
}

/** A new detector; its `init` finds the `ip_reputation` store, or registers a new empty one. */
export function createIpReputationConnection(): Detector<typeof definition> {
  let store: IPReputationStore | undefined;
  return defineDetector({
    definition,
    init(params) {
      store = params.dataStores.get(IpReputationRef) ?? params.dataStores.register(ipReputationStore());
    },
    onEvent(_event, ctx) {
      const remote = ctx.get("remote_addr");
      if (remote === undefined || store === undefined) return undefined;
      const [ip, port] =
        remote.saFamily === SaFamily.AF_INET ? [remote.sinAddr, remote.sinPort] : remote.saFamily === SaFamily.AF_INET6 ? [remote.sin6Addr, remote.sin6Port] : [];
      if (ip === undefined || !store.isDenied(ip)) return undefined;
      const reputation = store.getReputation(ip);
      if (reputation === undefined) return undefined;
      return [
        {
          data: [
            newStringValue("ip", ip),
            newValue("port", "u_int32", port ?? 0),
            newInt32Value("severity", reputation.severity),
            newValue("tags", "str_array", [...reputation.tags]),
            newStringValue("source", reputation.source),
          ],
          threat: { ...threat, severity: threatSeverity(reputation.severity) },
        },
      ];
    },
  });
}

export const ipReputationConnection = createIpReputationConnection();

/** The store `tracee-ds run` registers (and `--serve` serves) for this module. */
export const ipReputation = ipReputationStore();

export default ipReputationConnection;
