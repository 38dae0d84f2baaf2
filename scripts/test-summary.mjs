#!/usr/bin/env node
// Prints vitest's result as one closing line, "N passed, N failed", so a run
// that executed no test is visible. Exits non-zero when tests failed or none ran.
import { readFileSync } from "node:fs";

let report;
try {
  report = JSON.parse(readFileSync(new URL("../test-results/vitest.json", import.meta.url), "utf8"));
} catch {
  console.log("0 passed, 0 failed");
  console.error("no vitest report at test-results/vitest.json: the tests did not run");
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTests ?? 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 || report.success === false ? 1 : 0);
