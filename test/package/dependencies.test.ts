/**
 * What the published package asks users to install, checked against what the
 * built files import: every package dist/ imports is a dependency, and
 * google-protobuf (which the codec only duck-types) is an optional peer, not a
 * dependency. `npm test` builds dist/ before this runs.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

interface Manifest {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
}
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Manifest;

/** The package a bare specifier names: `@grpc/grpc-js/build/x` → `@grpc/grpc-js`. */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** Every bare specifier the built JavaScript imports or requires, statically or dynamically. */
function importedPackages(): Set<string> {
  const found = new Set<string>();
  const dist = join(root, "dist");
  for (const file of readdirSync(dist)) {
    if (!/\.(c|m)?js$/.test(file)) continue;
    const code = readFileSync(join(dist, file), "utf8");
    const patterns = [
      /(?:^|[;\s}])(?:import|export)\s*(?:[\w$*{}\s,]*?\sfrom\s*)?["']([^"'\s]+)["']/g,
      /\b(?:import|require)\(\s*["']([^"'\s]+)["']\s*\)/g,
    ];
    for (const pattern of patterns) {
      for (const match of code.matchAll(pattern)) {
        const specifier = match[1]!;
        if (specifier.startsWith(".") || specifier.startsWith("node:") || builtinModules.includes(specifier)) continue;
        found.add(packageOf(specifier));
      }
    }
  }
  return found;
}

describe("the package's dependencies", () => {
  let imported: Set<string>;
  beforeAll(() => {
    if (!existsSync(join(root, "dist/index.js"))) {
      throw new Error("dist/ is missing: run `npm run build` first (`npm test` does)");
    }
    imported = importedPackages();
  });

  it("finds the imports of the built files (the scan works)", () => {
    expect(imported).toContain("@grpc/grpc-js");
  });

  it("lists every package the built files import as a dependency", () => {
    const dependencies = Object.keys(manifest.dependencies ?? {});
    expect([...imported].filter((name) => !dependencies.includes(name))).toEqual([]);
  });

  it("never imports google-protobuf, and only asks for it as an optional peer", () => {
    expect(imported).not.toContain("google-protobuf");
    expect(manifest.dependencies).not.toHaveProperty("google-protobuf");
    expect(manifest.peerDependencies?.["google-protobuf"]).toMatch(/^\^3\./);
    expect(manifest.peerDependenciesMeta?.["google-protobuf"]).toEqual({ optional: true });
    // The tests compare the codec with google-protobuf byte for byte.
    expect(manifest.devDependencies).toHaveProperty("google-protobuf");
  });
});
