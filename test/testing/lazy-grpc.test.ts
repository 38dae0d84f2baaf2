/**
 * `tracee-ds/testing` must not load grpc-js until `startTestServer` runs:
 * users who only use the fakes and the harness should not pay for gRPC.
 * A child process loads the sources (through tsx) with a resolve hook that
 * reports every module resolved under @grpc.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tracee-ds-lazy-"));
  writeFileSync(
    join(dir, "hook.mjs"),
    `export async function resolve(specifier, context, next) {
       const result = await next(specifier, context);
       if (result.url.includes("/@grpc/")) process.stdout.write("GRPC " + result.url + "\\n");
       return result;
     }`,
  );
  writeFileSync(
    join(dir, "register.mjs"),
    `import { register } from "node:module";
     register(${JSON.stringify(pathToFileURL(join(dir, "hook.mjs")).href)});`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(script: string): string {
  return execFileSync(
    process.execPath,
    ["--import", "tsx", "--import", join(dir, "register.mjs"), "--input-type=module", "-e", script],
    { cwd: root, encoding: "utf8" },
  );
}

describe("loading tracee-ds/testing", () => {
  const entry = JSON.stringify(pathToFileURL(join(root, "src/testing/index.ts")).href);

  it("does not load grpc-js, even when the fakes and the harness are used", () => {
    const out = run(
      `const t = await import(${entry});
       const ds = t.fakeDataSource({ namespace: "n", id: "i", data: { k: { v: 1 } } });
       const sig = {
         getMetadata: () => ({ id: "X", version: "1", name: "x", eventName: "x", description: "" }),
         getSelectedEvents: () => [{ source: "tracee", name: "*" }],
         init(ctx) { this.ctx = ctx; },
         onEvent(event) { this.ctx.callback({ data: this.ctx.getDataSource("n", "i").get("k"), event, sigMetadata: this.getMetadata() }); },
         onSignal() {},
         close() {},
       };
       const harness = new t.SignatureHarness(sig, { dataSources: [ds] });
       const found = await harness.deliver(t.traceeEvent("open", null));
       await t.checkDataSource(ds, { validKeys: ["k"] });
       console.log("ok", found[0].data.v);`,
    );
    expect(out).toBe("ok 1\n");
  });

  it("loads grpc-js once startTestServer is called (the check can see it)", () => {
    const out = run(
      `const t = await import(${entry});
       const server = await t.startTestServer([]);
       await server.close();
       console.log("closed");`,
    );
    expect(out).toMatch(/^GRPC .*@grpc\/grpc-js/m);
    expect(out).toMatch(/closed\n$/);
  });
});

describe("loading tracee-ds/events", () => {
  const events = JSON.stringify(pathToFileURL(join(root, "src/events/index.ts")).href);
  const testing = JSON.stringify(pathToFileURL(join(root, "src/testing/index.ts")).href);

  it("does not load grpc-js for the model, the JSON, the NDJSON input or a fake Tracee", () => {
    const out = run(
      `const e = await import(${events});
       const t = await import(${testing});
       const { Readable } = await import("node:stream");
       const event = t.buildEvent("openat", { data: { fd: 3 } });
       let again;
       for await (const read of e.readEvents(Readable.from([e.encodeEventJson(event) + "\\n"]))) again = read;
       const tracee = await t.fakeTracee({ events: [event] });
       await tracee.close();
       console.log("ok", e.getData(again, "fd", "int32"));`,
    );
    expect(out).toBe("ok 3\n");
  });

  it("loads grpc-js once streamEvents starts", () => {
    const out = run(
      `const e = await import(${events});
       const t = await import(${testing});
       const tracee = await t.fakeTracee({ events: [t.buildEvent("openat")] });
       let n = 0;
       for await (const _ of e.streamEvents({ address: tracee.address })) n++;
       await tracee.close();
       console.log("streamed", n);`,
    );
    expect(out).toMatch(/^GRPC .*@grpc\/grpc-js/m);
    expect(out).toMatch(/streamed 1\n$/);
  });
});
