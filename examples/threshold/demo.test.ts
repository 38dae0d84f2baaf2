/**
 * `npm start` must keep working: the demo runs to its end, and a threshold
 * written over gRPC during the run changes the next round's detections.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));

it("the demo's rounds follow the threshold written over gRPC while the run goes on", () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(here, "demo.ts")], { cwd: join(here, "../.."), encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const rounds = [...r.stdout.matchAll(/^round (\d): threshold (\d+)\n((?:  .*\n)+)/gm)].map((m) => ({
    threshold: Number(m[2]),
    detected: [...(m[3] ?? "").matchAll(/^ {2}(\S+) .*DETECTION/gm)].map((d) => d[1]),
  }));
  expect(rounds).toEqual([
    { threshold: 5, detected: ["backup.sh", "xmrig"] },
    { threshold: 10, detected: ["xmrig"] },
    { threshold: 10, detected: ["xmrig"] }, // "ten" was refused: INVALID_ARGUMENT
  ]);
  expect(r.stdout).toContain('threshold="ten"\n  refused: INVALID_ARGUMENT');
  expect(r.stdout).toContain("run ended: 162 events, 4 detections, 0 errors");
});
