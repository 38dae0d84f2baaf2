/**
 * What the shipped files and the docs point users to must exist for them:
 * nothing cites the project's internal design note (kept outside this
 * repository, so users never get it), and
 * every relative link in README.md and docs/*.md resolves.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Every file under `path` (or `path` itself), relative to the repository root. */
function filesUnder(path: string): string[] {
  const absolute = join(root, path);
  if (!existsSync(absolute)) return [];
  if (!statSync(absolute).isDirectory()) return [path];
  return readdirSync(absolute, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

/** `file:line` for every line of `files` that matches `pattern`. */
function mentions(files: readonly string[], pattern: RegExp): string[] {
  return files.flatMap((file) =>
    readFileSync(join(root, file), "utf8")
      .split("\n")
      .flatMap((line, i) => (pattern.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
  );
}

/** The internal design note's file name, spelled so this test does not cite it itself. */
const INTERNAL_DESIGN_NOTE = new RegExp(["DESIGN", "md"].join("\\."));
const SHIPPED_OR_READ = ["src", "docs", "README.md", "CHANGELOG.md", "examples"];
const MARKDOWN = ["README.md", ...filesUnder("docs").filter((f) => f.endsWith(".md"))];

describe("references in shipped files and docs", () => {
  it("never cite the internal design note, which users do not have", () => {
    const files = SHIPPED_OR_READ.flatMap(filesUnder);
    expect(files.length).toBeGreaterThan(50); // the walk found the sources
    expect(mentions(files, INTERNAL_DESIGN_NOTE)).toEqual([]);
  });

  it("link only to files that exist", () => {
    const broken: string[] = [];
    let links = 0;
    for (const file of MARKDOWN) {
      const lines = readFileSync(join(root, file), "utf8").split("\n");
      lines.forEach((line, i) => {
        for (const [, target = ""] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
          if (/^[a-z]+:/i.test(target) || target.startsWith("#")) continue;
          links++;
          const path = target.split("#")[0]!;
          if (!existsSync(resolve(root, dirname(file), path))) broken.push(`${file}:${i + 1}: ${target}`);
        }
      });
    }
    expect(links).toBeGreaterThan(10);
    expect(broken).toEqual([]);
  });
});
