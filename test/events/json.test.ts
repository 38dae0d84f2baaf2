/**
 * Tracee's JSON, both ways: every sample line re-encodes byte for byte and
 * survives the protobuf binary form; arbitrary events round-trip; errors
 * name the field; 64-bit values and Go's number formats are exact.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import {
  decodeEventJson,
  encodeEventJson,
  type EventJsonError,
  getData,
  isEventJsonError,
  safeDecodeEventJson,
  type TraceeEvent,
} from "tracee-ds/events";
import { describe, expect, it } from "vitest";
import { Event } from "../../src/gen/tracee/v1beta1/event.js";
import { traceeEvent } from "./arbitraries.js";

const lines = readFileSync(new URL("../fixtures/events/v1beta1.ndjson", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l !== "");

/** The event as it comes back from protobuf's binary form. */
const viaBinary = (event: TraceeEvent): TraceeEvent => Event.decode(Event.encode(event).finish()) as TraceeEvent;

function thrown(f: () => unknown): EventJsonError {
  try {
    f();
  } catch (err) {
    if (isEventJsonError(err)) return err;
    throw err;
  }
  throw new Error("expected an EventJsonError");
}

describe("the sample lines", () => {
  it("there are 17 of them", () => expect(lines).toHaveLength(17));

  it.each(lines.map((line, i) => [i + 1, line] as const))("line %i re-encodes byte for byte", (_, line) => {
    expect(encodeEventJson(decodeEventJson(line))).toBe(line);
  });

  it.each(lines.map((line, i) => [i + 1, line] as const))(
    "line %i: decode → protobuf binary → decode is the same event, and prints the same line",
    (_, line) => {
      const event = decodeEventJson(line);
      const again = viaBinary(event);
      expect(again).toEqual(event);
      expect(encodeEventJson(again)).toBe(line);
    },
  );

  it("keeps 64-bit values and nanoseconds exact", () => {
    const open = decodeEventJson(lines[0] as string);
    expect(open.timestamp).toEqual({ seconds: 1657321167n, nanos: 356748797 });
    expect(getData(open, "ctime", "u_int64")).toBe(1657321027326584850n);
    expect(getData(open, "dev", "u_int32")).toBe(271581185);
    // Wrapper fields print whenever set, 0 included.
    expect(open.workload?.process?.uniqueId).toBe(0);
    expect(open.workload?.process?.thread?.syscall).toBe("openat");
    const vfsRead = decodeEventJson(lines[2] as string);
    expect(vfsRead.workload?.process?.thread?.startTime).toEqual({ seconds: 1685285181n, nanos: 26565700 });
  });

  it("reads detector outputs: threat and the detected_from chain", () => {
    const anti = decodeEventJson(lines.find((l) => l.includes('"anti_debugging"')) as string);
    expect(anti.id).toBe(7500);
    expect(anti.threat).toMatchObject({ severity: 1, mitre: { technique: { id: "T1622" } } });
    expect(anti.detectedFrom?.name).toBe("ptrace");
    expect(getData(anti.detectedFrom as NonNullable<TraceeEvent["detectedFrom"]>, "addr", "pointer")).toBe(0n);
  });

  it("reads the network, DNS and HTTP kinds as messages", () => {
    const dns = decodeEventJson(lines.find((l) => l.includes('"net_packet_dns"')) as string);
    const value = getData(dns, "proto_dns", "dns");
    expect(value?.questions[0]).toEqual({ name: "www.zip.net", type: "AAAA", class: "IN" });
    expect(value?.answers[0]?.soa).toEqual({ mname: "", rname: "", serial: 0, refresh: 0, retry: 0, expire: 0, minimum: 0 });
    const http = decodeEventJson(lines.find((l) => l.includes('"net_packet_http"')) as string);
    expect(getData(http, "proto_http", "http")?.contentLength).toBe(180n);
  });
});

describe("Tracee's printing rules", () => {
  const base = '{"timestamp":"2023-01-01T00:00:00Z","id":1,"name":"x"';

  it("prints a missing timestamp as the string null, and reads it back", () => {
    const event = decodeEventJson('{"timestamp":"null","id":1,"name":"x"}');
    expect(event.timestamp).toBeUndefined();
    expect(encodeEventJson(event)).toBe('{"timestamp":"null","id":1,"name":"x"}');
  });

  it("trims the fraction of a second, and drops it for a whole second", () => {
    const at = (nanos: number) => encodeEventJson({ ...decodeEventJson(`${base}}`), timestamp: { seconds: 0n, nanos } });
    expect(at(0)).toContain('"1970-01-01T00:00:00Z"');
    expect(at(500_000_000)).toContain('"1970-01-01T00:00:00.5Z"');
    expect(at(1)).toContain('"1970-01-01T00:00:00.000000001Z"');
  });

  it("prints floats as Go's %g: exponents from 1e+06 and below 1e-04", () => {
    const line = `${base},"data":[{"name":"a","timespec":{"value":1e+06}},{"name":"b","timespec":{"value":123456}},{"name":"c","timespec":{"value":1.5e-05}},{"name":"d","timespec":{"value":0.0001}},{"name":"e","struct":{"n":1.2345678e+08,"m":[0.5,-0]}}]}`;
    expect(encodeEventJson(decodeEventJson(line))).toBe(line);
  });

  it("reads exactly a stack address beyond 2^53, printed as a bare number", () => {
    const line = `${base},"workload":{"process":{"thread":{"user_stack_trace":{"addresses":[{"address":18446744073709551615,"symbol":"x"}]}}}}}`;
    const event = decodeEventJson(line);
    expect(event.workload?.process?.thread?.userStackTrace?.addresses[0]?.address).toBe(2n ** 64n - 1n);
    expect(encodeEventJson(event)).toBe(line);
  });

  it("escapes <, > and & only inside the protojson-printed kinds", () => {
    const line = `${base},"data":[{"name":"s","str":"<a&b>"},{"name":"h","http_request":{"method":"\\u003cGET\\u0026\\u003e"}}]}`;
    const event = decodeEventJson(line);
    expect(getData(event, "h", "http_request")?.method).toBe("<GET&>");
    expect(encodeEventJson(event)).toBe(line);
  });

  it("prints protojson maps with their keys sorted, as protojson does", () => {
    const event = decodeEventJson(`${base}}`);
    event.data = [
      { name: "h", httpRequest: { method: "GET", protocol: "", host: "", uriPath: "", headers: { b: { header: ["2"] }, a: { header: ["1"] } }, contentLength: 0n } },
    ];
    expect(encodeEventJson(event)).toBe(
      `${base},"data":[{"name":"h","http_request":{"method":"GET","headers":{"a":{"header":["1"]},"b":{"header":["2"]}}}}]}`,
    );
  });

  it("prints a value with no kind as value:null", () => {
    const line = `${base},"data":[{"name":"n","value":null}]}`;
    expect(decodeEventJson(line).data).toEqual([{ name: "n" }]);
    expect(encodeEventJson(decodeEventJson(line))).toBe(line);
  });

  it("prints an unknown address family as its number, and an empty sockaddr as {}", () => {
    const line = `${base},"data":[{"name":"a","sockaddr":{"sa_family":"17","sin_port":1}},{"name":"b","sockaddr":{}}]}`;
    expect(encodeEventJson(decodeEventJson(line))).toBe(line);
  });
});

describe("decode errors name the field", () => {
  const line = lines[0] as string;
  const cases: [string, string, RegExp][] = [
    ["not JSON", line.slice(0, 40), /^not JSON/],
    ["a string u_int64", line.replace('"u_int64":"1966101"', '"u_int64":1966101'), /^data\[3\]\.u_int64: expected an unsigned 64-bit integer as a decimal string, got number 1966101$/],
    ["a negative u_int64", line.replace('"u_int64":"1966101"', '"u_int64":"-1"'), /^data\[3\]\.u_int64: out of range/],
    ["a wrapper that is a string", line.replace('"host_pid":2578238', '"host_pid":"2578238"'), /^workload\.process\.host_pid: expected an unsigned 32-bit integer/],
    ["a bad time", line.replace("2022-07-08T22:59:27", "2022-13-08T22:59:27"), /^timestamp: expected an RFC 3339 time/],
    ["two values in one", line.replace('"str":"/tmp/testing.txt"}', '"str":"/tmp/testing.txt","int32":1}'), /^data\[0\]: holds two values, str and int32$/],
    ["an unknown kind", line.replace('"u_int32":271581185', '"u_int128":271581185'), /^data\[2\]\.u_int128: unknown kind/],
    ["an array for an object", '{"timestamp":"null","workload":[]}', /^workload: expected an object, got an array$/],
    ["bad base64", '{"data":[{"name":"b","bytes":"***"}]}', /^data\[0\]\.bytes: expected base64/],
    ["a protojson field", '{"data":[{"name":"d","dns":{"questions":[{"name":5}]}}]}', /^data\[0\]\.dns\.questions\[0\]\.name: expected a string/],
  ];

  it.each(cases)("%s", (_, bad, message) => {
    const err = thrown(() => decodeEventJson(bad));
    expect(err.message).toMatch(message);
    expect(err.path === "" ? err.reason : `${err.path}: ${err.reason}`).toBe(err.message);
    const result = safeDecodeEventJson(bad);
    expect(result.ok).toBe(false);
  });

  it("skips unknown keys, so newer Tracee versions still read", () => {
    const event = decodeEventJson(line.replace('"policies"', '"new_field":{"x":1},"policies"'));
    expect(encodeEventJson(event)).toBe(line);
  });
});

describe("arbitrary events", () => {
  it("print, read back as the same event, and print the same line again", () => {
    fc.assert(
      fc.property(traceeEvent, (event) => {
        const line = encodeEventJson(event);
        const decoded = decodeEventJson(line);
        expect(decoded).toEqual(event);
        expect(encodeEventJson(decoded)).toBe(line);
        expect(encodeEventJson(viaBinary(decoded))).toBe(line);
      }),
      { numRuns: 300 },
    );
  });

  it("print as valid JSON whose 64-bit integers are strings", () => {
    fc.assert(
      fc.property(traceeEvent, (event) => {
        const parsed = JSON.parse(encodeEventJson(event)) as { data?: { int64?: unknown; u_int64?: unknown }[] };
        for (const v of parsed.data ?? []) {
          if ("int64" in v) expect(typeof v.int64).toBe("string");
          if ("u_int64" in v) expect(typeof v.u_int64).toBe("string");
        }
      }),
      { numRuns: 100 },
    );
  });
});
