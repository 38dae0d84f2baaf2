/**
 * Finds the TypeScript code blocks of a markdown file, with the snippet
 * marker written right before each one.
 *
 * A marker is an HTML comment on the line just above the fence, so readers of
 * the rendered page never see it. Directives are separated by `;` (a reason
 * in parentheses may hold `;` too):
 *
 * ```markdown
 * <!-- snippet: name=threshold -->
 * <!-- snippet: prelude=threshold,signature; dir=examples/threshold -->
 * <!-- snippet: norun (binds the fixed socket /tmp/tracee-ds.sock) -->
 * <!-- snippet: throws=threshold: expected an integer, got 5.5 -->
 * <!-- snippet: skip (reason) -->
 * ```
 *
 * - `name=N`: later blocks of the same file can use this block as a prelude.
 * - `prelude=A,B`: code compiled and run before the block, unseen by readers:
 *   named blocks of the same file, else the shared preludes of preludes.ts.
 * - `dir=D`: relative imports (`./signature.js`) resolve from D (relative to
 *   the repository root) instead of the markdown file's directory.
 * - `throws=TEXT`: running the block must throw an error whose message
 *   contains TEXT (the block's last statement shows a failure).
 * - `norun (reason)`: type-checked but not run (it needs a live Tracee, a
 *   fixed address, …).
 * - `skip (reason)`: neither type-checked nor run. Rare; the test lists it.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";

/** One ```ts block and what its marker says. */
export interface Snippet {
  /** The markdown file, relative to the repository root (`docs/codec.md`). */
  readonly file: string;
  /** The line of the block's first code line (1-based), for messages. */
  readonly line: number;
  /** The block's code, de-indented when the fence is indented (in a list). */
  readonly code: string;
  readonly name?: string;
  readonly preludes: readonly string[];
  /** Directory relative imports resolve from, relative to the repository root. */
  readonly dir?: string;
  readonly throws?: string;
  readonly norun?: string;
  readonly skip?: string;
}

const FENCE = /^(\s*)```(\S*)\s*$/;
const MARKER = /^\s*<!--\s*snippet:(.*?)-->\s*$/;
const LANGS = new Set(["ts", "typescript"]);

/** The snippets of one markdown file; throws on a malformed marker or one that precedes no ts block. */
export function readSnippets(root: string, path: string): Snippet[] {
  const file = relative(root, path);
  const lines = readFileSync(path, "utf8").split("\n");
  const snippets: Snippet[] = [];
  let pending: { line: number; text: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const marker = MARKER.exec(text);
    if (marker) {
      pending = { line: i + 1, text: marker[1]!.trim() };
      continue;
    }
    const fence = FENCE.exec(text);
    if (!fence) {
      if (pending && text.trim() !== "") throw new Error(`${file}:${pending.line}: a snippet marker must come right before a \`\`\`ts block`);
      continue;
    }
    const [, indent = "", lang = ""] = fence;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !new RegExp(`^${indent}\`\`\`\\s*$`).test(lines[end]!)) end++;
    if (end === lines.length) throw new Error(`${file}:${i + 1}: unterminated code block`);
    if (LANGS.has(lang)) {
      const code = lines
        .slice(start, end)
        .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()))
        .join("\n");
      snippets.push({ file, line: start + 1, code, ...parseMarker(file, pending) });
    } else if (pending) {
      throw new Error(`${file}:${pending.line}: a snippet marker must come right before a \`\`\`ts block, not \`\`\`${lang}`);
    }
    pending = undefined;
    i = end;
  }
  if (pending) throw new Error(`${file}:${pending.line}: a snippet marker at the end of the file`);
  return snippets;
}

type Directives = Omit<Snippet, "file" | "line" | "code">;

function parseMarker(file: string, marker: { line: number; text: string } | undefined): Directives {
  const out: { -readonly [K in keyof Directives]: Directives[K] } = { preludes: [] };
  if (marker === undefined) return out;
  const where = `${file}:${marker.line}`;
  for (const part of splitDirectives(marker.text)) {
    const reasoned = /^(norun|skip)\s*\((.+)\)$/.exec(part);
    if (reasoned) {
      out[reasoned[1] as "norun" | "skip"] = reasoned[2]!.trim();
      continue;
    }
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq).trim();
    const value = eq < 0 ? "" : part.slice(eq + 1).trim();
    if (value === "") throw new Error(`${where}: snippet directive "${part}" needs a value (norun and skip need a (reason))`);
    switch (key) {
      case "name":
        out.name = value;
        break;
      case "prelude":
        out.preludes = value.split(",").map((p) => p.trim());
        break;
      case "dir":
        out.dir = value;
        break;
      case "throws":
        out.throws = value;
        break;
      default:
        throw new Error(`${where}: unknown snippet directive "${key}"`);
    }
  }
  return out;
}

/** Splits a marker at the `;`s that are not inside a `(reason)`. */
function splitDirectives(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of text) {
    if (char === "(") depth++;
    else if (char === ")") depth = Math.max(0, depth - 1);
    if (char === ";" && depth === 0) {
      parts.push(current);
      current = "";
    } else current += char;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}
