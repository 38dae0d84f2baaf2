/**
 * What the `tracee-ds store` test files share: a temp dir, reference
 * DataStoreService servers (test/grpc/fixtures) closed after each test, and
 * the built bin (dist/cli.js, `npm run build` first).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import { type DataStoreFixture, startDataStoreServer } from "../grpc/fixtures/datastore-server.js";
import { type CliResult, killCliChildren, requireBuiltCli, startCli } from "../support/cli.js";

/** Registers the hooks (call it at a test file's top level) and returns the helpers. */
export function storeCliHarness(prefix: string) {
  let dir = "";
  const fixtures: DataStoreFixture[] = [];
  beforeAll(() => {
    requireBuiltCli();
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    killCliChildren();
    await Promise.all(fixtures.splice(0).map((f) => f.close()));
  });
  return {
    /** A path in this file's temp dir. */
    path: (name: string): string => join(dir, name),
    /** A reference DataStoreService, closed after the test. */
    async server(transport: "tcp" | "unix" = "tcp"): Promise<DataStoreFixture> {
      const f = await startDataStoreServer({ transport });
      fixtures.push(f);
      return f;
    },
    /** `tracee-ds store …args`, with `input` on its standard input. */
    cli: (args: readonly string[], input?: string): Promise<CliResult> =>
      startCli(["store", ...args], input === undefined ? {} : { input }).done,
    /** Writes `text` to `name` in the temp dir; returns its path. */
    file(name: string, text: string): string {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}

/** The flags naming `f`'s store and the source `feed`. */
export const target = (f: DataStoreFixture, store = "ip_reputation"): string[] => [
  "--address",
  f.address,
  "--store",
  store,
  "--source",
  "feed",
];
