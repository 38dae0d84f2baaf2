/**
 * `tracee-ds store`: the built bin (dist/cli.js, `npm run build` first)
 * against the reference DataStoreService of test/grpc/fixtures; the input
 * readers and the progress bar in process.
 */
import { PassThrough, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { status as Status } from "@grpc/grpc-js";
import { IPAddressKey, IPReputation as IPReputationMessage } from "../../src/gen/tracee/v1beta1/datastores/ipreputation.js";
import { fromValueBinary } from "tracee-ds/codec";
import { run } from "../../src/cli/run.js";
import { csvRecords, jsonArrayRecords, ndjsonRecords } from "../../src/cli/import/readers.js";
import type { DataStoreFixture, RecordedCall } from "../grpc/fixtures/datastore-server.js";
import { root, startCli } from "../support/cli.js";
import { storeCliHarness, target } from "./store-harness.js";

const { path, server, cli, file } = storeCliHarness("tracee-ds-store-");

/** The IPs and decoded reputations of every entry the server was sent, in order. */
function sentReputations(f: DataStoreFixture): { ip: string; rep: ReturnType<typeof IPReputationMessage.decode> }[] {
  return f.calls.flatMap((c) =>
    c.entries.map((e) => ({ ip: IPAddressKey.decode(e.key!.value).ip, rep: IPReputationMessage.decode(e.data!.value) })),
  );
}
const sentValues = (calls: readonly RecordedCall[]) =>
  calls.flatMap((c) => c.entries.map((e) => [fromValueBinary(e.key!.value), fromValueBinary(e.data!.value)]));

describe("tracee-ds store write / delete / clear / sources", () => {
  it("writes an IP reputation from flags, packed as IPAddressKey and IPReputation", async () => {
    const f = await server("unix");
    const r = await cli([
      "write", "--address", f.address, "--store", "ip_reputation", "--source", "feed",
      "--key", "203.0.113.7", "--status", "deny", "--severity", "8", "--tag", "c2", "--tag", "botnet",
      "--meta", "feed=abuse.ch", "--last-updated", "2024-05-01T12:00:00Z",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`ok      ${f.address}\n`);
    expect(f.calls[0]!.entries[0]!.key?.typeUrl).toBe("type.googleapis.com/tracee.v1beta1.datastores.IPAddressKey");
    expect(f.calls[0]!.entries[0]!.data?.typeUrl).toBe("type.googleapis.com/tracee.v1beta1.datastores.IPReputation");
    const [sent] = sentReputations(f);
    expect(sent!.ip).toBe("203.0.113.7");
    expect(sent!.rep).toEqual({
      status: 2,
      severity: 8,
      tags: ["c2", "botnet"],
      lastUpdated: { seconds: 1714564800n, nanos: 0 },
      metadata: { "feed": "abuse.ch" },
    });
  });

  it("writes an IP reputation given as --data JSON; last_updated defaults to now", async () => {
    const f = await server();
    const before = Math.floor(Date.now() / 1000);
    const r = await cli([
      "write", "--address", f.address, "--store", "ip_reputation", "--source", "feed",
      "--key", "2001:db8::1", "--data", '{"status":"REPUTATION_SUSPICIOUS","severity":3,"tags":"scanner"}',
    ]);
    expect(r.code).toBe(0);
    const [sent] = sentReputations(f);
    expect(sent!.ip).toBe("2001:db8::1");
    expect([sent!.rep.status, sent!.rep.severity, sent!.rep.tags]).toEqual([3, 3, ["scanner"]]);
    expect(Number(sent!.rep.lastUpdated!.seconds)).toBeGreaterThanOrEqual(before);
  });

  it("writes to a value store: --data as JSON, --string, --json-key", async () => {
    const f = await server();
    const base = ["write", "--address", f.address, "--store", "values", "--source", "cmdb"];
    expect((await cli([...base, "--key", "web-1", "--data", '{"team":"payments","tier":1}'])).code).toBe(0);
    expect((await cli([...base, "--key", "web-2", "--data", "10", "--string"])).code).toBe(0);
    expect((await cli([...base, "--key", "7", "--json-key", "--data", "[1,2]"])).code).toBe(0);
    expect(sentValues(f.calls)).toEqual([
      ["web-1", { team: "payments", tier: 1 }],
      ["web-2", "10"],
      [7, [1, 2]],
    ]);
    const bad = await cli([...base, "--key", "web-3", "--data", "payments"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--data: not valid JSON: payments (to send it as a string, add --string or quote it: '"payments"')`);
  });

  it("refuses bad flags with exit 2 before sending anything", async () => {
    const f = await server();
    const ip = ["write", "--address", f.address, "--store", "ip_reputation", "--source", "feed", "--key", "10.0.0.1"];
    const cases: [string[], string][] = [
      [[...ip, "--severity", "8"], "--status is required"],
      [[...ip, "--status", "deny", "--severity", "11"], "severity must be a whole number from 1 to 10, got \"11\""],
      [[...ip, "--status", "blocked", "--severity", "1"], "status must be allow, deny, suspicious, unknown or 0-3, got \"blocked\""],
      [[...ip, "--status", "deny", "--severity", "1", "--last-updated", "yesterday"], "last_updated must be an RFC 3339 timestamp"],
      [[...ip, "--status", "deny", "--severity", "1", "--data", "{}"], "either as --data or as flags"],
      [["write", "--address", f.address, "--store", "ip_reputation", "--source", "feed", "--key", "10.0.0.300", "--status", "deny", "--severity", "1"], "--key: ip must be an IPv4 or IPv6 address"],
      [["write", "--address", f.address, "--store", "values", "--source", "s", "--key", "k", "--data", "1", "--severity", "2"], "--severity is for IP reputation stores"],
      [["write", "--address", f.address, "--source", "s", "--key", "k", "--data", "1"], "--store is required"],
      [["write", "--address", f.address, "--store", "values", "--key", "k", "--data", "1"], "--source is required"],
      [["write", "--address", f.address, "--store", "values", "--source", "s", "--kind", "blob", "--key", "k", "--data", "1"], '--kind: expected ip or value, got "blob"'],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect(f.calls).toEqual([]);
  });

  it("reports the server's status with exit 1; several endpoints get a line each", async () => {
    const f = await server();
    const missing = await cli(["write", "--address", f.address, "--store", "nope", "--source", "s", "--key", "k", "--data", "1"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`failed  ${f.address}  NOT_FOUND: store "nope" not found\n`);
    const down = path("nobody.sock");
    const fleet = await cli([
      "write", "--address", f.address, "--address", `unix://${down}`, "--store", "values", "--source", "s", "--key", "k", "--data", "1",
    ]);
    expect(fleet.code).toBe(1);
    expect(fleet.stdout).toBe(`ok      ${f.address}\n`);
    expect(fleet.stderr).toMatch(new RegExp(`^failed  unix://${down}  UNAVAILABLE: .*nobody\\.sock`));
  });

  it("delete, clear (with its count) and sources (lines, or --json)", async () => {
    const f = await server();
    const at = ["--address", f.address, "--store", "ip_reputation"];
    for (const [source, ip] of [["feed-b", "10.0.0.1"], ["feed-a", "10.0.0.1"], ["feed-a", "10.0.0.2"], ["feed-a", "10.0.0.3"]]) {
      expect((await cli(["write", ...at, "--source", source!, "--key", ip!, "--status", "deny", "--severity", "5"])).code).toBe(0);
    }
    const listed = await cli(["sources", ...at]);
    expect([listed.code, listed.stdout]).toEqual([0, "feed-a\nfeed-b\n"]);
    const deleted = await cli(["delete", ...at, "--source", "feed-a", "--key", "10.0.0.2"]);
    expect([deleted.code, deleted.stdout]).toEqual([0, `ok      ${f.address}\n`]);
    expect(IPAddressKey.decode(f.calls.at(-1)!.key!.value).ip).toBe("10.0.0.2");
    const cleared = await cli(["clear", ...at, "--source", "feed-a"]);
    expect([cleared.code, cleared.stdout]).toEqual([0, `ok      ${f.address}  2 entries deleted\n`]);
    const json = await cli(["sources", ...at, "--json"]);
    expect(JSON.parse(json.stdout)).toEqual(["feed-b"]);

    const badKey = await cli(["delete", ...at, "--source", "feed-b", "--key", "not-an-ip"]);
    expect(badKey.code).toBe(2);
    const valueKey = await cli(["delete", "--address", f.address, "--store", "values", "--source", "s", "--key", "true", "--json-key"]);
    expect(valueKey.code).toBe(0);
    expect(fromValueBinary(f.calls.at(-1)!.key!.value)).toBe(true);

    const unreachable = await cli(["sources", "--address", `unix://${path("none.sock")}`, "--store", "values"]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^failed  unix:\/\/.*none\.sock  UNAVAILABLE: /);
    const two = await cli(["sources", "--address", f.address, "--address", f.address, "--store", "values"]);
    expect(two.code).toBe(2);
  });

  it("help, a missing or unknown subcommand", async () => {
    const help = await cli(["--help"]);
    expect([help.code, help.stdout.split("\n")[0]]).toEqual([0, "Usage: tracee-ds store <write|delete|clear|sources|import> --store NAME [options]"]);
    const importHelp = await cli(["import", "--help"]);
    expect(importHelp.stdout).toContain("Usage: tracee-ds store import FILE|- --store NAME --source NAME [options]");
    expect((await startCli(["help", "store"]).done).stdout).toContain("Subcommands:");
    expect((await cli([])).code).toBe(2);
    const unknown = await cli(["put"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown subcommand "put"');
  });
});

describe("tracee-ds store import", () => {
  
  it("CSV of IP reputations: quoting, tags, numeric and named statuses, metadata both ways", async () => {
    const f = await server();
    const csv = file(
      "feed.csv",
      [
        "ip,status,severity,tags,last_updated,metadata",
        "203.0.113.7,deny,8,c2;botnet,2024-05-01T12:00:00Z,feed=abuse;region=eu",
        '198.51.100.1,3,4,"[""scanner"",""tor""]",2024-05-01T12:00:00.5+02:00,"{""note"":""a, b""}"',
        "",
        "2001:db8::2,ALLOW,1,,,",
        '10.1.2.3,suspicious,2,"multi',
        'line",,',
      ].join("\r\n"),
    );
    const r = await cli(["import", csv, ...target(f)]);
    expect(r.stderr).toMatch(/^4 entries in 1 batch, [\d.]+ KiB|^4 entries in 1 batch, \d+ B/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`ok      ${f.address}  4 entries written to ip_reputation/feed\n`);
    const sent = sentReputations(f);
    expect(sent.map((s) => s.ip)).toEqual(["203.0.113.7", "198.51.100.1", "2001:db8::2", "10.1.2.3"]);
    expect(sent[0]!.rep).toMatchObject({ status: 2, severity: 8, tags: ["c2", "botnet"], metadata: { feed: "abuse", region: "eu" } });
    expect(sent[1]!.rep).toMatchObject({ status: 3, severity: 4, tags: ["scanner", "tor"], metadata: { note: "a, b" } });
    expect(sent[1]!.rep.lastUpdated).toEqual({ seconds: 1714557600n, nanos: 500_000_000 });
    expect(sent[2]!.rep).toMatchObject({ status: 1, severity: 1, tags: [], metadata: {} });
    expect(sent[3]!.rep.tags).toEqual(["multi\r\nline"]);
  });

  it("a JSON array of key/value pairs, pretty-printed, into a value store", async () => {
    const f = await server();
    const pairs = [
      { key: "web-1", value: { team: "payments", ports: [443, 8443] } },
      { key: "web-2", value: "plain [text] with {brackets}, and \"quotes\"" },
      { key: 3, data: null },
    ];
    const r = await cli(["import", file("hosts.json", JSON.stringify(pairs, null, 2)), ...target(f, "values")]);
    expect(r.code).toBe(0);
    expect(sentValues(f.calls)).toEqual([
      ["web-1", { team: "payments", ports: [443, 8443] }],
      ["web-2", 'plain [text] with {brackets}, and "quotes"'],
      [3, null],
    ]);
  });

  it("CSV key/value pairs: values are JSON when they parse, text otherwise", async () => {
    const f = await server();
    const csv = file("pairs.csv", 'key,value\na,10\nb,hello\nc,"{""x"":true}"\nd,"""10"""\n');
    expect((await cli(["import", csv, ...target(f, "values")])).code).toBe(0);
    expect(sentValues(f.calls)).toEqual([
      ["a", 10],
      ["b", "hello"],
      ["c", { x: true }],
      ["d", "10"],
    ]);
  });

  it("NDJSON on standard input, its format told by its first character or by --format", async () => {
    const f = await server();
    const ndjson = '{"ip":"10.0.0.1","status":"deny","severity":9}\n\n{"key":"10.0.0.2","data":{"status":"allow","severity":1}}\n';
    const sniffed = await cli(["import", "-", ...target(f)], ndjson);
    expect(sniffed.code).toBe(0);
    const told = await cli(["import", "-", "--format", "ndjson", ...target(f)], ndjson);
    expect(told.code).toBe(0);
    expect(sentReputations(f).map((s) => [s.ip, s.rep.status])).toEqual([
      ["10.0.0.1", 2],
      ["10.0.0.2", 1],
      ["10.0.0.1", 2],
      ["10.0.0.2", 1],
    ]);
  });

  it("hostile field names: __proto__ metadata keys are kept, a __proto__ field is refused", async () => {
    const f = await server();
    const ndjson =
      '{"ip":"10.0.0.1","status":"deny","severity":9,"metadata":{"__proto__":"x","constructor":"y"}}\n' +
      '{"ip":"10.0.0.2","status":"deny","severity":9,"__proto__":{"status":"allow"}}\n';
    const r = await cli(["import", file("proto.ndjson", ndjson), "--skip-invalid", ...target(f)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('proto.ndjson:2: unexpected field "__proto__"');
    // ts-proto's decoder drops a __proto__ map key, so the bytes are checked: map entry {1: key, 2: value} in field 5.
    const data = Buffer.from(f.calls[0]!.entries[0]!.data!.value);
    const mapEntry = (k: string, v: string) => Buffer.from([0x2a, 4 + k.length + v.length, 0x0a, k.length, ...Buffer.from(k), 0x12, v.length, ...Buffer.from(v)]);
    expect(data.includes(mapEntry("__proto__", "x"))).toBe(true);
    expect(data.includes(mapEntry("constructor", "y"))).toBe(true);
    expect(sentReputations(f)).toHaveLength(1);
  });

  it("a bad row in a file: its line, how many are bad, nothing sent, exit 2", async () => {
    const f = await server();
    const csv = file(
      "bad.csv",
      "ip,status,severity\n10.0.0.1,deny,5\n10.0.0.2,deny,5\n10.0.0.3,deny,11\n10.0.0.4,deny,5\nnot-an-ip,deny,5\n10.0.0.6,deny\n",
    );
    const r = await cli(["import", csv, ...target(f)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${csv}:4: severity must be a whole number from 1 to 10, got "11"; 3 bad rows in all (--skip-invalid skips them); nothing sent`);
    expect(f.calls).toEqual([]);

    const skipped = await cli(["import", csv, "--skip-invalid", ...target(f)]);
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toContain(`skipped ${csv}:4: severity must be a whole number from 1 to 10, got "11"`);
    expect(skipped.stderr).toContain(`skipped ${csv}:6: ip must be an IPv4 or IPv6 address, got "not-an-ip"`);
    expect(skipped.stderr).toContain(`skipped ${csv}:7: expected 3 fields (as the header), got 2`);
    expect(skipped.stderr).toMatch(/3 entries in 1 batch, .*; 3 invalid rows skipped\n$/);
    expect(sentReputations(f).map((s) => s.ip)).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.4"]);
  });

  it("a bad row on standard input stops the import there and says what was written", async () => {
    const f = await server();
    const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ key: `k${i}`, value: i }));
    lines[6] = "{not json";
    const r = await cli(["import", "-", "--batch-entries", "2", ...target(f, "values")], `${lines.join("\n")}\n`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tracee-ds store import: stdin:7: not valid JSON \(.*\)\n(4|6) entries were written before it\n$/);
    const written = Number(/\n(\d) entries/.exec(r.stderr)![1]);
    expect(f.entries("values", "feed").size).toBe(written);

    const first = await cli(["import", "-", ...target(f, "values")], "{}\n");
    expect(first.code).toBe(2);
    expect(first.stderr).toContain("stdin:1: key is missing");
  });

  it("malformed files: an unclosed JSON array, a bad CSV header, an unclosed quote", async () => {
    const f = await server();
    const cases: [string, string, string][] = [
      ["open.json", '[{"key":"a","value":1},\n{"key":"b",', "open.json:2: the JSON array is not closed"],
      ["header.csv", "ip,status,severity,colour\n", "header.csv:1: header: unknown column \"colour\""],
      ["quote.csv", 'ip,status,severity\n"10.0.0.1,deny,5\n', "quote.csv:2: a quoted field is never closed"],
    ];
    for (const [name, text, message] of cases) {
      const r = await cli(["import", file(name, text), ...target(f)]);
      expect(r.code, name).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const missing = await cli(["import", path("absent.csv"), ...target(f)]);
    expect([missing.code, missing.stderr.includes("cannot read")]).toEqual([2, true]);
    expect(f.calls).toEqual([]);
  });

  it("an empty input sends nothing and exits 0", async () => {
    const f = await server();
    for (const [name, text] of [["empty.csv", ""], ["header-only.csv", "ip,status,severity\n"], ["empty.json", "[ ]"]] as const) {
      const r = await cli(["import", file(name, text), ...target(f)]);
      expect([r.code, r.stderr]).toEqual([0, "nothing sent: the input had no entries\n"]);
    }
    expect((await cli(["import", "-", ...target(f)], "")).stderr).toBe("nothing sent: the input had no entries\n");
    expect(f.calls).toEqual([]);
  });

  it("batches: --batch-entries and --batch-bytes bound every batch, in input order", async () => {
    const f = await server();
    const rows = Array.from({ length: 1_000 }, (_, i) => `10.0.${i >> 8}.${i & 255},deny,${(i % 10) + 1},t${i % 3}`);
    const csv = file("many.csv", `ip,status,severity,tags\n${rows.join("\n")}\n`);
    const byCount = await cli(["import", csv, "--batch-entries", "100", ...target(f)]);
    expect(byCount.code).toBe(0);
    expect(byCount.stderr).toMatch(/^1000 entries in 10 batches, /);
    expect(f.calls.map((c) => c.entries.length)).toEqual(Array(10).fill(100));
    f.calls.length = 0;
    const bySize = await cli(["import", csv, "--batch-bytes", "4096", "--concurrency", "2", ...target(f)]);
    expect(bySize.code).toBe(0);
    expect(f.calls.length).toBeGreaterThan(10);
    for (const c of f.calls) expect(c.size).toBeLessThanOrEqual(4096);
    expect(new Set(sentReputations(f).map((s) => s.ip)).size).toBe(1_000);
  });

  it("a batch the server refuses: exit 1, the batch, and how much was written before it", async () => {
    const f = await server();
    f.hook = (_call, index) => {
      if (index === 2) throw { code: Status.UNAVAILABLE, details: "store is unhealthy" };
    };
    const rows = Array.from({ length: 50 }, (_, i) => `{"key":"k${i}","value":${i}}`).join("\n");
    const r = await cli(["import", file("rows.ndjson", rows), "--batch-entries", "10", ...target(f, "values")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `failed  ${f.address}  UNAVAILABLE: batch 3 (entries 20-29) failed: store is unhealthy; ` +
        "20 entries in 2 batches were written before it (resume at entry 20)\n",
    );
    expect(f.entries("values", "feed").size).toBe(20);
  });
});

describe("tracee-ds store import, in process", () => {
  it("paints a progress bar when standard error is a terminal, then the summary", async () => {
    const f = await server();
    let text = "";
    const stderr = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          text += chunk.toString();
          callback();
        },
      }),
      { isTTY: true },
    );
    const rows = Array.from({ length: 3_000 }, (_, i) => `k${i},${i}`).join("\n");
    const path = file("tty.csv", `key,value\n${rows}\n`);
    const stdout = new PassThrough();
    const code = await run(
      ["store", "import", path, "--address", f.address, "--store", "values", "--source", "feed", "--batch-entries", "100"],
      { stdin: new PassThrough(), stdout, stderr, cwd: root, waitForStop: () => new Promise(() => undefined) },
    );
    expect(code).toBe(0);
    expect(text).toMatch(/\r\[#{24}\] 100%  3000\/3000 entries  [\d.]+ KiB  \d+ entries\/s\u001b\[K\n/);
    expect(text.split("\n").at(-2)).toMatch(/^3000 entries in 30 batches, /);
  });

  it("readers yield records as the input arrives, without waiting for its end", async () => {
    /** An endless input: a reader that waited for the end would never yield. */
    async function* endless(first: string, row: (i: number) => string) {
      yield first;
      for (let i = 0; ; i++) yield row(i);
    }
    const take = async (records: AsyncIterable<{ line: number }>, n: number) => {
      const out: number[] = [];
      for await (const r of records) {
        out.push(r.line);
        if (out.length === n) break;
      }
      return out;
    };
    expect(await take(ndjsonRecords(endless("", (i) => `{"key":"k${i}","value":1}\n`)), 3)).toEqual([1, 2, 3]);
    expect(await take(jsonArrayRecords(endless("[\n", (i) => `{"key":"k${i}","value":"a,]}"},\n`)), 3)).toEqual([2, 3, 4]);
    expect(await take(csvRecords(endless("key,value\n", (i) => `k${i},${i}\n`), (h) => [...h]), 3)).toEqual([2, 3, 4]);
  });

  it("the JSON array reader splits elements across any chunk boundary", async () => {
    const doc = JSON.stringify([{ key: "a,b", value: [1, { x: "]" }] }, { key: "c\\\"", value: null }, { key: "d", value: "é" }], null, 1);
    const expected = JSON.parse(doc) as unknown[];
    for (let size = 1; size <= 7; size++) {
      async function* chunks() {
        for (let i = 0; i < doc.length; i += size) yield doc.slice(i, i + size);
      }
      const got: unknown[] = [];
      for await (const r of jsonArrayRecords(chunks())) got.push(r.fields);
      expect(got, `chunks of ${size}`).toEqual(expected);
    }
  });
});
