#!/usr/bin/env node
// Regenerates src/gen from proto/ into a temp dir and fails if the committed
// copy differs: generated code must be what `npm run generate` makes.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), "tracee-ds-gen-"));

function files(dir) {
  let list = [];
  try {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      list = statSync(path).isDirectory() ? list.concat(files(path)) : list.concat(path);
    }
  } catch (err) {
    if (err.code !== "ENOENT") throw err;
  }
  return list;
}

try {
  execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "--output", out], { cwd: root, stdio: "inherit" });
  const committedDir = join(root, "src/gen");
  const freshDir = join(out, "src/gen");
  const committed = new Map(files(committedDir).map((f) => [relative(committedDir, f), readFileSync(f, "utf8")]));
  const fresh = new Map(files(freshDir).map((f) => [relative(freshDir, f), readFileSync(f, "utf8")]));
  const problems = [];
  for (const [name, text] of fresh) {
    if (!committed.has(name)) problems.push(`missing: src/gen/${name}`);
    else if (committed.get(name) !== text) problems.push(`differs: src/gen/${name}`);
  }
  for (const name of committed.keys()) if (!fresh.has(name)) problems.push(`not generated: src/gen/${name}`);
  if (fresh.size === 0) problems.push("the generator produced nothing");
  if (problems.length > 0) {
    console.error(`src/gen is stale; run \`npm run generate\` and commit the result:\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`src/gen is fresh (${fresh.size} files)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
