/**
 * The snippet harness itself: markers are read strictly (a typo fails rather
 * than silently skipping a block), and preludes are assembled so the block's
 * lines still map to the markdown.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { assemble } from "./assemble.js";
import { readSnippets } from "./markdown.js";
import { PRELUDES } from "./preludes.js";

const dir = mkdtempSync(join(tmpdir(), "tracee-ds-snippets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function markdown(name: string, text: string) {
  const path = join(dir, name);
  writeFileSync(path, text);
  return () => readSnippets(dir, path);
}

describe("readSnippets", () => {
  it("reads ts blocks with their markers, de-indents blocks in lists, and ignores other languages", () => {
    const read = markdown(
      "page.md",
      [
        "# Page",
        "<!-- snippet: name=a; dir=examples/x -->",
        "```ts",
        "const a = 1;",
        "```",
        "```sh",
        "<!-- snippet: not a marker inside a block -->",
        "```",
        "- item",
        "",
        "  <!-- snippet: prelude=a,vitest; norun (uses port 1; needs root) -->",
        "",
        "  ```ts",
        "  if (a) {",
        "    a;",
        "  }",
        "  ```",
        "<!-- snippet: throws=expected an integer, got 5.5 -->",
        "```typescript",
        "throw new Error();",
        "```",
      ].join("\n"),
    );
    const [first, second, third, ...rest] = read();
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ file: "page.md", line: 4, code: "const a = 1;", name: "a", dir: "examples/x", preludes: [] });
    expect(second).toMatchObject({ line: 14, code: "if (a) {\n  a;\n}", preludes: ["a", "vitest"], norun: "uses port 1; needs root" });
    expect(third).toMatchObject({ line: 20, throws: "expected an integer, got 5.5" });
  });

  it.each([
    ["a typo in a directive", "<!-- snippet: prelud=a -->\n```ts\nx;\n```", /unknown snippet directive "prelud"/],
    ["norun without a reason", "<!-- snippet: norun -->\n```ts\nx;\n```", /needs a value/],
    ["a marker before a non-ts block", "<!-- snippet: skip (x) -->\n```sh\nls\n```", /not ```sh/],
    ["text between marker and block", "<!-- snippet: skip (x) -->\nSome text.\n```ts\nx;\n```", /right before/],
    ["a marker at the end", "```ts\nx;\n```\n<!-- snippet: skip (x) -->\n", /end of the file/],
    ["an unterminated block", "```ts\nx;\n", /unterminated/],
  ])("refuses %s", (_, text, error) => {
    expect(markdown("bad.md", text)).toThrow(error);
  });
});

describe("assemble", () => {
  const root = "/repo";
  const page = markdown(
    "deps.md",
    [
      "<!-- snippet: name=helpers; dir=examples/threshold -->",
      "```ts",
      'import { SignatureHarness, traceeEvent } from "tracee-ds/testing";',
      'import { ExcessiveFileOpens } from "./signature.js";',
      "const open = () => traceeEvent('x', {});",
      "```",
      "<!-- snippet: name=more; prelude=helpers -->",
      "```ts",
      "const more = open;",
      "```",
      "<!-- snippet: prelude=more,vitest -->",
      "```ts",
      'import { assertDataSource, SignatureHarness } from "tracee-ds/testing";',
      "more();",
      "```",
    ].join("\n"),
  );

  it("puts preludes first, each once, drops imports the block makes itself, and keeps line numbers", () => {
    const snippets = page().map((s) => ({ ...s, file: "docs/deps.md" }));
    const block = snippets[2]!;
    const out = assemble(root, block, snippets, "/repo/test/docs/.snippets-x/gen.ts");
    expect(out.parts.map((p) => p.label)).toEqual([
      "prelude helpers (docs/deps.md:3)",
      "prelude more (docs/deps.md:9)",
      "prelude vitest (test/docs/preludes.ts)",
      "block",
    ]);
    const lines = out.text.split("\n");
    // The block's own lines, verbatim, where blockStart says.
    expect(lines.slice(out.blockStart, out.blockStart + 2)).toEqual(block.code.split("\n"));
    // The prelude's import keeps traceeEvent but not SignatureHarness, which the block imports.
    expect(lines[0]).toBe('import { traceeEvent } from "tracee-ds/testing";');
    // Relative imports resolve from the block's dir, seen from the generated file.
    expect(lines[1]).toBe('import { ExcessiveFileOpens } from "../../../examples/threshold/signature.js";');
    expect(out.text).toContain(PRELUDES["vitest"]);
    expect(out.text.endsWith("export {};\n")).toBe(true);
  });

  it("refuses an unknown prelude and a cycle", () => {
    const [one] = markdown("unknown.md", "<!-- snippet: prelude=nope -->\n```ts\nx;\n```")();
    expect(() => assemble(root, one!, [one!], "/repo/x/gen.ts")).toThrow(/unknown prelude "nope"/);
    const cyclic = markdown("cycle.md", "<!-- snippet: name=a; prelude=b -->\n```ts\n```\n<!-- snippet: name=b; prelude=a -->\n```ts\n```")();
    expect(() => assemble(root, cyclic[0]!, cyclic, "/repo/x/gen.ts")).toThrow(/cycle/);
  });
});
