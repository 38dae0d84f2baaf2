/**
 * The built package, imported the way users import it: an ESM and a CJS
 * consumer that resolve `tracee-ds` through node_modules and package.json
 * `exports`. `npm test` builds dist/ before this runs.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const entryPoints = ["tracee-ds", "tracee-ds/codec", "tracee-ds/grpc", "tracee-ds/testing", "tracee-ds/events", "tracee-ds/engine"] as const;
let consumer: string;

function run(file: string, source: string): unknown {
  writeFileSync(join(consumer, file), source);
  return JSON.parse(execFileSync(process.execPath, [file], { cwd: consumer, encoding: "utf8" }));
}

beforeAll(() => {
  if (!existsSync(join(root, "dist/index.js"))) {
    throw new Error("dist/ is missing: run `npm run build` first (`npm test` does)");
  }
  consumer = mkdtempSync(join(tmpdir(), "tracee-ds-consumer-"));
  mkdirSync(join(consumer, "node_modules"));
  symlinkSync(root, join(consumer, "node_modules/tracee-ds"), "dir");
});

afterAll(() => {
  if (consumer) rmSync(consumer, { recursive: true, force: true });
});

describe("the built package", () => {
  it("imports from an ESM consumer", () => {
    const out = run(
      "esm.mjs",
      `import * as root from "tracee-ds";
       const mods = await Promise.all(${JSON.stringify(entryPoints)}.map((e) => import(e)));
       const reg = new root.DataSourceRegistry();
       console.log(JSON.stringify({
         message: root.ErrDataNotFound.message,
         wrapped: root.errorIs(root.wrapError(root.ErrDataNotFound, "x"), root.ErrDataNotFound),
         registry: typeof reg.register,
         loaded: mods.length,
       }));`,
    );
    expect(out).toEqual({ message: "requested data was not found", wrapped: true, registry: "function", loaded: 6 });
  });

  it("requires tracee-ds/testing without loading grpc-js until a test server is started", () => {
    const out = run(
      "testing.cjs",
      `const testing = require("tracee-ds/testing");
       const grpcLoaded = () => Object.keys(require.cache).some((p) => p.includes("@grpc"));
       const fake = testing.fakeDataSource({ namespace: "ns", id: "x", data: { k: { v: 1 } } });
       console.log(JSON.stringify({ grpcLoaded: grpcLoaded(), value: fake.get("k") }));`,
    );
    expect(out).toEqual({ grpcLoaded: false, value: { v: 1 } });
  });

  it("requires tracee-ds/events without loading grpc-js, and decodes Tracee's JSON", () => {
    const out = run(
      "events.cjs",
      `const events = require("tracee-ds/events");
       const grpcLoaded = () => Object.keys(require.cache).some((p) => p.includes("@grpc"));
       const line = '{"timestamp":"2023-05-28T14:46:21.0281669Z","id":4,"name":"close","data":[{"name":"fd","int32":3}]}';
       const event = events.decodeEventJson(line);
       console.log(JSON.stringify({
         grpcLoaded: grpcLoaded(),
         fd: events.getData(event, "fd", "int32"),
         same: events.encodeEventJson(event) === line,
       }));`,
    );
    expect(out).toEqual({ grpcLoaded: false, fd: 3, same: true });
  });

  it("requires from a CJS consumer without loading grpc-js for the root entry point", () => {
    const out = run(
      "cjs.cjs",
      `const root = require("tracee-ds");
       const grpcLoaded = () => Object.keys(require.cache).some((p) => p.includes("@grpc"));
       const beforeGrpc = grpcLoaded();
       const mods = ${JSON.stringify(entryPoints)}.map((e) => require(e));
       console.log(JSON.stringify({
         message: root.ErrKeyNotSupported.message,
         sentinelCode: root.ErrFailedToUnmarshal.code,
         grpcLoadedByRoot: beforeGrpc,
         loaded: mods.length,
       }));`,
    );
    expect(out).toEqual({
      message: "queried key is not supported",
      sentinelCode: "FAILED_TO_UNMARSHAL",
      grpcLoadedByRoot: false,
      loaded: 6,
    });
  });

  it("recognises errors across the ESM and CJS copies of the package", () => {
    const out = run(
      "dual.mjs",
      `import { createRequire } from "node:module";
       import * as esm from "tracee-ds";
       const cjs = createRequire(import.meta.url)("tracee-ds");
       console.log(JSON.stringify({
         distinctCopies: esm.ErrDataNotFound !== cjs.ErrDataNotFound,
         esmSeesCjs: esm.errorIs(cjs.wrapError(cjs.ErrDataNotFound, "ctx"), esm.ErrDataNotFound),
         cjsSeesEsm: cjs.errorIs(new Error("outer", { cause: esm.ErrKeyNotSupported }), cjs.ErrKeyNotSupported),
         guard: cjs.isDetectError(esm.ErrFailedToUnmarshal),
         noFalseMatch: esm.errorIs(cjs.ErrDataNotFound, esm.ErrKeyNotSupported),
       }));`,
    );
    expect(out).toEqual({ distinctCopies: true, esmSeesCjs: true, cjsSeesEsm: true, guard: true, noFalseMatch: false });
  });

  it("keeps grpc-js out of the ESM root entry point's import graph", () => {
    const seen = new Set<string>();
    const imports: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/(?:import|export)\s*(?:[^"';]*?from\s*)?["']([^"']+)["']/g)) {
        const spec = m[1] ?? "";
        if (spec.startsWith(".")) visit(resolve(dirname(file), spec));
        else imports.push(spec);
      }
    };
    visit(join(root, "dist/index.js"));
    expect(seen.size).toBeGreaterThan(0);
    expect(imports.filter((s) => s.includes("grpc"))).toEqual([]);
  });
});
