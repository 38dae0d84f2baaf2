/**
 * Every ```ts block of README.md and docs/*.md is type-checked, with the
 * project's compiler options and the package's public names resolving to
 * src/, in one compiler program; every block that can run on its own is then
 * run. Fragments get hidden preludes through a marker right before the block
 * (`<!-- snippet: prelude=… -->`, see markdown.ts for every directive); a block
 * that needs a live Tracee or a fixed address is marked `norun (reason)`, and
 * its run shows up as skipped, with the reason, like any `skip (reason)`.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assemble, type Assembled } from "./assemble.js";
import { readSnippets, type Snippet } from "./markdown.js";
import { PRELUDES } from "./preludes.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const MARKDOWN = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const byFile = new Map(MARKDOWN.map((file) => [file, readSnippets(root, join(root, file))]));
const snippets = [...byFile.values()].flat();
const where = (s: Snippet) => `${s.file}:${s.line}`;

interface Generated {
  readonly path: string;
  readonly assembled?: Assembled;
  /** Why it could not be assembled (an unknown prelude …). */
  readonly error?: string;
}

let outDir: string;
const generated = new Map<Snippet, Generated>();
let program: ts.Program;

beforeAll(() => {
  // Inside the repository, so imports of node_modules and of the examples
  // resolve; the leading dot keeps tsc's project and vitest's include away.
  mkdirSync(join(root, "test/docs"), { recursive: true });
  outDir = mkdtempSync(join(root, "test/docs/.snippets-"));
  snippets.forEach((snippet, i) => {
    const path = join(outDir, `${snippet.file.replace(/[/.]/g, "_")}_${snippet.line}_${i}.ts`);
    if (snippet.skip !== undefined) return;
    try {
      const assembled = assemble(root, snippet, byFile.get(snippet.file)!, path);
      writeFileSync(path, assembled.text);
      generated.set(snippet, { path, assembled });
    } catch (err) {
      generated.set(snippet, { path, error: (err as Error).message });
    }
  });
  const config = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  });
  if (config === undefined) throw new Error("cannot read tsconfig.json");
  const rootNames = [...generated.values()].filter((g) => g.assembled !== undefined).map((g) => g.path);
  // Snippets show imports and values a reader may not use in the fragment itself.
  program = ts.createProgram({ rootNames, options: { ...config.options, noEmit: true, noUnusedLocals: false } });
}, 120_000);

afterAll(() => {
  if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
});

/** The compiler's complaints about one snippet, each located in the markdown file (or in a prelude). */
function diagnostics(snippet: Snippet): string[] {
  const g = generated.get(snippet)!;
  if (g.error !== undefined) return [g.error];
  const { assembled } = g;
  const sf = program.getSourceFile(g.path)!;
  return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    const line = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line;
    const part = assembled!.parts.find((p) => line >= p.start && line < p.start + p.lines);
    const at =
      part === undefined || part.label === "block"
        ? `${snippet.file}:${snippet.line + line - assembled!.blockStart}`
        : `${where(snippet)}, ${part.label} line ${line - part.start + 1}`;
    return `${at}: TS${d.code}: ${message}`;
  });
}

describe("TypeScript snippets in README.md and docs/*.md", () => {
  it("finds the blocks of every page that has code, and few are skipped", () => {
    expect(snippets.length).toBeGreaterThan(25);
    for (const file of ["README.md", "docs/codec.md", "docs/concepts.md", "docs/grpc.md", "docs/testing.md"]) {
      expect(byFile.get(file)?.length, file).toBeGreaterThan(0);
    }
    const skipped = snippets.filter((s) => s.skip !== undefined);
    expect(skipped.length, skipped.map(where).join(", ")).toBeLessThanOrEqual(2);
    expect(program.getOptionsDiagnostics().map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual([]);
  });

  it("uses every shared prelude (an unused one has outlived its block)", () => {
    const used = new Set(snippets.flatMap((s) => s.preludes));
    expect(Object.keys(PRELUDES).filter((name) => !used.has(name))).toEqual([]);
  });

  for (const snippet of snippets) {
    describe(where(snippet), () => {
      if (snippet.skip !== undefined) {
        it.skip(`skipped: ${snippet.skip}`, () => {});
        return;
      }
      it("type-checks", () => {
        expect(diagnostics(snippet)).toEqual([]);
      });
      if (snippet.norun !== undefined) {
        it.skip(`runs (not run: ${snippet.norun})`, () => {});
        return;
      }
      it(snippet.throws === undefined ? "runs" : `runs, and throws "${snippet.throws}"`, async () => {
        const g = generated.get(snippet)!;
        expect(g.error).toBeUndefined();
        if (snippet.throws !== undefined) {
          await expect(import(g.path)).rejects.toThrow(snippet.throws);
          return;
        }
        const module = (await import(g.path)) as { __snippetTests?: Array<[string, () => unknown]> };
        for (const [name, test] of module.__snippetTests ?? []) {
          try {
            await test();
          } catch (err) {
            throw new Error(`${where(snippet)}: it(${JSON.stringify(name)}) failed: ${(err as Error).message}`, { cause: err });
          }
        }
      });
    });
  }
});
