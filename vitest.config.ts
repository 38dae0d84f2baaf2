import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** Server test files that start their servers through test/grpc/helpers.ts (`serve`, `serveStores`). */
const SERVER_TESTS = [
  "semantics",
  "limits",
  "server",
  "streams",
  "stream-lifecycle",
  "wire",
  "integrity",
  "write-threshold",
  "datastore-server",
  "datastore-server-limits",
];

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

// Tests import the package by its public names; these aliases point those
// names at the sources so a test run needs no build. test/package/ checks the
// built dist separately.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^tracee-ds$/, replacement: src("index.ts") },
      { find: /^tracee-ds\/codec$/, replacement: src("codec/index.ts") },
      { find: /^tracee-ds\/grpc$/, replacement: src("grpc/index.ts") },
      { find: /^tracee-ds\/testing$/, replacement: src("testing/index.ts") },
      { find: /^tracee-ds\/events$/, replacement: src("events/index.ts") },
      { find: /^tracee-ds\/engine$/, replacement: src("engine/index.ts") },
    ],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: "all", include: ["test/**/*.test.ts", "examples/**/*.test.ts"] } },
      {
        // The server's semantics again on grpc-js's server, which `serverOptions` still selects:
        // the same cases on both transports.
        extends: true,
        test: {
          name: "server on grpc-js",
          include: SERVER_TESTS.map((name) => `test/grpc/${name}.test.ts`),
          env: { TRACEE_DS_TEST_SERVER: "grpc-js" },
        },
      },
    ],
    // The default reporter for people, a JSON file for the closing
    // "N passed, N failed" line that scripts/test-summary.mjs prints.
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
  },
});
