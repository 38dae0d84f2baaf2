/**
 * IP_REPUTATION_CONNECTION through the engine: a connection to an address the
 * `ip_reputation` store denies prints the detection as Tracee would; allowed,
 * unknown and non-IP addresses do not; what sources write between events
 * changes the next verdict.
 */
import { type IPReputation, ipReputationStore, type IPReputationStore } from "tracee-ds";
import { decodeEventJson, Severity, type TraceeEvent } from "tracee-ds/events";
import { DetectorHarness } from "tracee-ds/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createIpReputationConnection, threatSeverity } from "./ip-reputation-connection.js";

const WORKLOAD = `"workload":{"process":{"executable":{"path":"/usr/bin/curl"},"pid":4242,"thread":{"name":"curl"}}}`;
const HEAD = `"timestamp":"2025-12-16T10:30:45.123Z","id":1036,"name":"security_socket_connect","policies":{"matched":["default"]},${WORKLOAD}`;

/** curl connecting to `sockaddr` (its JSON), as Tracee prints the event. */
const connect = (sockaddr: string): TraceeEvent =>
  decodeEventJson(`{${HEAD},"data":[{"name":"sockfd","int32":3},{"name":"remote_addr","sockaddr":${sockaddr}}]}`);

const TO_C2 = `{"sa_family":"AF_INET","sin_addr":"203.0.113.7","sin_port":443}`;

const day = (n: number) => new Date(Date.UTC(2025, 11, n));
const rep = (status: IPReputation["status"], severity: number, lastUpdated: Date, tags: string[] = []): IPReputation => ({ status, severity, tags, metadata: {}, lastUpdated });

/** What Tracee prints for the connection to 203.0.113.7 denied by threat-feed with severity 9. */
const EXPECTED = `{"timestamp":"2025-12-16T10:30:45.123Z","id":7500,"name":"ip_reputation_connection","policies":{"matched":["default"]},${WORKLOAD},"data":[{"name":"ip","str":"203.0.113.7"},{"name":"port","u_int32":443},{"name":"severity","int32":9},{"name":"tags","str_array":{"value":["c2","botnet"]}},{"name":"source","str":"threat-feed"}],"threat":{"description":"A process connected to an IP address that a reputation source denies. Denied addresses are known command and control servers, malware distribution points or scanners.","mitre":{"tactic":{"name":"Command and Control"},"technique":{"id":"T1071","name":"Application Layer Protocol"}},"severity":4,"name":"Connection to a denied IP address","properties":{"Category":"command-and-control"}},"detected_from":{"id":1036,"name":"security_socket_connect","data":[{"name":"sockfd","int32":3},{"name":"remote_addr","sockaddr":{"sa_family":"AF_INET","sin_addr":"203.0.113.7","sin_port":443}}]}}`;

describe("IP_REPUTATION_CONNECTION", () => {
  let h: DetectorHarness | undefined;
  let store: IPReputationStore;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  const start = async () => {
    store = ipReputationStore();
    h = await DetectorHarness.create(createIpReputationConnection(), { dataStores: [store] });
    return h;
  };

  it("a connection to a denied address prints Tracee's detection", async () => {
    await start();
    store.write("threat-feed", { key: "203.0.113.7", data: rep("deny", 9, day(1), ["c2", "botnet"]) });
    expect(await h?.json(connect(TO_C2))).toEqual([EXPECTED]);
  });

  it("stays quiet for allowed, suspicious and unknown addresses, and for non-IP sockets", async () => {
    await start();
    store.writeBatch("threat-feed", [
      { key: "198.51.100.1", data: rep("allow", 1, day(1)) },
      { key: "198.51.100.2", data: rep("suspicious", 6, day(1)) },
      { key: "198.51.100.3", data: rep("unknown", 1, day(1)) },
      { key: "203.0.113.7", data: rep("deny", 9, day(1)) },
    ]);
    const v4 = (ip: string) => connect(`{"sa_family":"AF_INET","sin_addr":"${ip}","sin_port":80}`);
    expect(
      await h?.json(v4("198.51.100.1"), v4("198.51.100.2"), v4("198.51.100.3"), v4("192.0.2.1"), connect(`{"sa_family":"AF_UNIX","sun_path":"203.0.113.7"}`)),
    ).toEqual([]);
    expect(h?.stats().participants.IP_REPUTATION_CONNECTION).toMatchObject({ processed: 5, produced: 0, errors: 0 });
  });

  it("what sources write between events changes the verdict", async () => {
    await start();
    const fired = async () => ((await h?.feed(connect(TO_C2))) ?? []).map((e) => e.data.find((d) => d.name === "source")?.str);
    expect(await fired()).toEqual([]); // nobody rated it yet
    store.write("threat-feed", { key: "203.0.113.7", data: rep("deny", 7, day(1)) });
    expect(await fired()).toEqual(["threat-feed"]);
    store.write("allow-list", { key: "203.0.113.7", data: rep("allow", 1, day(2)) }); // newer: last write wins
    expect(await fired()).toEqual([]);
    expect(store.clear("allow-list")).toBe(1);
    expect(await fired()).toEqual(["threat-feed"]);
    expect(store.delete("threat-feed", "203.0.113.7")).toBe(true);
    expect(await fired()).toEqual([]);
  });

  it("matches IPv6 addresses however the source wrote them, with the severity mapped to the threat's", async () => {
    await start();
    store.write("threat-feed", { key: "2001:DB8:0:0::1", data: rep("deny", 5, day(1)) });
    const [out] = (await h?.feed(connect(`{"sa_family":"AF_INET6","sin6_addr":"2001:db8::1","sin6_port":8443,"sin6_flowinfo":0,"sin6_scopeid":0}`))) ?? [];
    expect(out?.data.slice(0, 3)).toEqual([
      { name: "ip", str: "2001:db8::1" },
      { name: "port", uInt32: 8443 },
      { name: "severity", int32: 5 },
    ]);
    expect(out?.threat?.severity).toBe(Severity.MEDIUM);
  });

  it("registers an empty store when none is given, for the test (or --serve) to write into", async () => {
    h = await DetectorHarness.create(createIpReputationConnection());
    const own = h.engine.dataStores.get("ip_reputation") as IPReputationStore;
    expect(own.size).toBe(0);
    expect(await h.json(connect(TO_C2))).toEqual([]);
    own.write("threat-feed", { key: "203.0.113.7", data: rep("deny", 9, day(1), ["c2", "botnet"]) });
    expect(await h.json(connect(TO_C2))).toEqual([EXPECTED]);
  });

  it.each([
    [1, Severity.LOW],
    [3, Severity.LOW],
    [4, Severity.MEDIUM],
    [6, Severity.MEDIUM],
    [7, Severity.HIGH],
    [8, Severity.HIGH],
    [9, Severity.CRITICAL],
    [10, Severity.CRITICAL],
  ])("severity %i is threat severity %i", (severity, expected) => {
    expect(threatSeverity(severity)).toBe(expected);
  });
});
