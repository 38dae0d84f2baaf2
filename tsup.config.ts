import { defineConfig } from "tsup";

export default defineConfig([
  // The library: six entry points, ESM and CJS, each with its own declaration
  // files (.d.ts / .d.cts) so both resolution modes see the right types.
  {
    entry: {
      index: "src/index.ts",
      codec: "src/codec/index.ts",
      grpc: "src/grpc/index.ts",
      testing: "src/testing/index.ts",
      events: "src/events/index.ts",
      engine: "src/engine/index.ts",
    },
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    splitting: true,
    treeshake: true,
    target: "node20",
    platform: "node",
    outDir: "dist",
    // tracee-ds/testing loads gRPC lazily with import(); in the CJS build
    // that must become a lazy require(), which CJS test runners (Jest) handle.
    esbuildOptions(options, { format }) {
      if (format === "cjs") options.supported = { ...options.supported, "dynamic-import": false };
    },
  },
  // The `tracee-ds` command: ESM only, no types. It keeps its shebang.
  {
    entry: { cli: "src/cli/main.ts" },
    format: ["esm"],
    sourcemap: true,
    target: "node20",
    platform: "node",
    outDir: "dist",
  },
]);
