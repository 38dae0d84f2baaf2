/**
 * Turns a documentation snippet into a TypeScript module inside the
 * repository: its preludes, then the block itself, verbatim, so a
 * diagnostic's line maps back to the markdown line.
 */
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import type { Snippet } from "./markdown.js";
import { PRELUDES } from "./preludes.js";

/** One piece of a generated module: a prelude or the block. */
export interface Part {
  /** `prelude vitest`, `prelude thresholdOf (docs/testing.md:34)`, or `block`. */
  readonly label: string;
  /** The first line of this part in the generated module (0-based). */
  readonly start: number;
  readonly lines: number;
}

export interface Assembled {
  readonly text: string;
  readonly parts: readonly Part[];
  /** The block's first line in the generated module (0-based). */
  readonly blockStart: number;
}

interface Source {
  readonly label: string;
  readonly code: string;
  /** The absolute directory its relative imports resolve from. */
  readonly dir: string;
}

/**
 * Builds the module for `snippet`, to be written to `out`. Preludes come
 * first, dependencies before the blocks that name them, each once; an import
 * in a prelude of a name the block (or an earlier prelude) already imports
 * from the same module is dropped, so a prelude can be a page's own block.
 * Throws for a prelude name that is neither a named block of the same file
 * nor a shared prelude, and for a cycle.
 */
export function assemble(root: string, snippet: Snippet, sameFile: readonly Snippet[], out: string): Assembled {
  const sources: Source[] = [];
  const added = new Set<string>();
  const visiting = new Set<string>();
  const addPrelude = (name: string, from: Snippet) => {
    if (added.has(name)) return;
    if (visiting.has(name)) throw new Error(`${from.file}:${from.line}: prelude cycle through "${name}"`);
    const block = sameFile.find((s) => s.name === name);
    if (block !== undefined) {
      visiting.add(name);
      for (const dep of block.preludes) addPrelude(dep, block);
      visiting.delete(name);
      sources.push({ label: `prelude ${name} (${block.file}:${block.line})`, code: block.code, dir: dirOf(root, block) });
    } else if (Object.hasOwn(PRELUDES, name)) {
      sources.push({ label: `prelude ${name} (test/docs/preludes.ts)`, code: PRELUDES[name]!, dir: root });
    } else {
      throw new Error(`${from.file}:${from.line}: unknown prelude "${name}" (not a name= block of this file, nor in test/docs/preludes.ts)`);
    }
    added.add(name);
  };
  for (const name of snippet.preludes) addPrelude(name, snippet);

  const outDir = dirname(out);
  const block = rewriteImports(snippet.code, dirOf(root, snippet), outDir);
  const seen = new Set<string>();
  importsOf(block, seen, false);
  const pieces = sources.map((s) => ({ label: s.label, code: importsOf(rewriteImports(s.code, s.dir, outDir), seen, true) }));
  pieces.push({ label: "block", code: block });

  const parts: Part[] = [];
  let text = "";
  let line = 0;
  for (const piece of pieces) {
    const lines = piece.code.split("\n").length;
    parts.push({ label: piece.label, start: line, lines });
    text += `${piece.code}\n`;
    line += lines;
  }
  text += "export {};\n";
  return { text, parts, blockStart: parts.at(-1)!.start };
}

function dirOf(root: string, snippet: Snippet): string {
  return snippet.dir === undefined ? dirname(join(root, snippet.file)) : resolve(root, snippet.dir);
}

const RELATIVE_IMPORT = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.\.?\/[^"']*)\2/g;

/** Points relative import specifiers, written from `dir`, at the same files from `outDir`. */
function rewriteImports(code: string, dir: string, outDir: string): string {
  return code.replace(RELATIVE_IMPORT, (_, lead: string, quote: string, spec: string) => {
    let path = relative(outDir, resolve(dir, spec)).split("\\").join("/");
    if (!path.startsWith(".")) path = `./${path}`;
    return `${lead}${quote}${path}${quote}`;
  });
}

/**
 * Records the names `code` imports (module and local name) in `seen`. With
 * `drop`, first removes from `code` the import bindings already in `seen`,
 * keeping its line count, and returns the result.
 */
function importsOf(code: string, seen: Set<string>, drop: boolean): string {
  const sf = ts.createSourceFile("snippet.ts", code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const edits: Array<{ start: number; end: number; text: string }> = [];
  for (const statement of sf.statements) {
    if (!ts.isImportDeclaration(statement) || statement.importClause === undefined) continue;
    const spec = (statement.moduleSpecifier as ts.StringLiteral).text;
    const clause = statement.importClause;
    const keep: string[] = [];
    const named: string[] = [];
    let changed = false;
    const take = (local: string, text: string, into: string[]) => {
      const key = `${spec}\0${local}`;
      if (drop && seen.has(key)) {
        changed = true;
        return;
      }
      seen.add(key);
      into.push(text);
    };
    if (clause.name) take(clause.name.text, clause.name.text, keep);
    const bindings = clause.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) take(bindings.name.text, `* as ${bindings.name.text}`, keep);
    if (bindings && ts.isNamedImports(bindings)) {
      for (const element of bindings.elements) take(element.name.text, element.getText(sf), named);
    }
    if (!changed) continue;
    if (named.length > 0) keep.push(`{ ${named.join(", ")} }`);
    const original = statement.getText(sf);
    const newlines = original.split("\n").length - 1;
    const replacement =
      keep.length === 0 ? "" : `import ${clause.isTypeOnly ? "type " : ""}${keep.join(", ")} from ${JSON.stringify(spec)};`;
    edits.push({ start: statement.getStart(sf), end: statement.getEnd(), text: replacement + "\n".repeat(newlines) });
  }
  let out = code;
  for (const edit of edits.reverse()) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}
