/**
 * Detectors on detectors: a detector that takes anti_debugging's output, and
 * a chain one level deeper than the engine follows (Tracee's limit: 5).
 */
import { defineDetector, detected, detectedWithData, type Detector } from "tracee-ds/engine";
import { decodeEventJson, newStringValue, Severity } from "tracee-ds/events";
import { DetectorHarness } from "tracee-ds/testing";
import { afterEach, describe, expect, it } from "vitest";
import { antiDebugging } from "./anti-debugging.js";

const WORKLOAD = `"workload":{"process":{"unique_id":0,"host_pid":95599,"pid":95599,"real_user":{"id":1000},"thread":{"start_time":"2023-03-29T19:44:47.787109775Z","name":"strace","unique_id":0,"host_tid":95599,"tid":95599}}}`;
const PTRACE_FROM = `{"id":101,"name":"ptrace","data":[{"name":"request","int64":"0"},{"name":"pid","int32":0},{"name":"addr","pointer":"0"},{"name":"data","pointer":"0"},{"name":"returnValue","int64":"0"}]}`;
const ptrace = () =>
  decodeEventJson(
    `{"timestamp":"2023-03-29T19:44:47.787203746Z","id":101,"name":"ptrace","policies":{"matched":[""]},${WORKLOAD},"data":[{"name":"request","int64":"0"},{"name":"pid","int32":0},{"name":"addr","pointer":"0"},{"name":"data","pointer":"0"},{"name":"returnValue","int64":"0"}]}`,
  );
/** The start of every line here: the input's time and policies. */
const START = (id: number, name: string) => `{"timestamp":"2023-03-29T19:44:47.787203746Z","id":${id},"name":"${name}","policies":{"matched":[""]},${WORKLOAD}`;
const ANTI_DEBUGGING_THREAT = `"threat":{"description":"A process used anti-debugging techniques to block a debugger. Malware use anti-debugging to stay invisible and inhibit analysis of their behavior.","mitre":{"tactic":{"name":"Defense Evasion"},"technique":{"id":"T1622","name":"Debugger Evasion"}},"severity":1,"name":"Anti-Debugging detected","properties":{"Category":"defense-evasion"}}`;
const ANTI_DEBUGGING_LINE = `${START(7500, "anti_debugging")},${ANTI_DEBUGGING_THREAT},"detected_from":${PTRACE_FROM}}`;

/** A detector on anti_debugging: the process refusing a debugger is itself a debugger. */
const debuggerRefusesDebugging = defineDetector({
  definition: {
    id: "TEST-CHAIN-1",
    requirements: { events: [{ name: "anti_debugging", scopeFilters: ["comm=strace,gdb"] }] },
    producedEvent: { name: "debugger_refuses_debugging", version: "1.0.0" },
    threat: {
      name: "A debugger blocks debuggers",
      description: "A debugging tool used PTRACE_TRACEME on itself.",
      severity: Severity.MEDIUM,
      mitre: undefined,
      properties: {},
    },
    autoPopulate: { threat: true, detectedFrom: true },
  },
  onEvent: (event) => detectedWithData([newStringValue("from", event.threat?.name ?? "")]),
});

describe("chaining", () => {
  let h: DetectorHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("a detector on anti_debugging gets its output, with the whole chain in detected_from", async () => {
    h = await DetectorHarness.create([antiDebugging, debuggerRefusesDebugging]);
    expect(await h.json(ptrace())).toEqual([
      ANTI_DEBUGGING_LINE,
      `${START(7501, "debugger_refuses_debugging")},"data":[{"name":"from","str":"Anti-Debugging detected"}],"threat":{"description":"A debugging tool used PTRACE_TRACEME on itself.","severity":2,"name":"A debugger blocks debuggers"},"detected_from":{"id":7500,"name":"anti_debugging","parent":${PTRACE_FROM}}}`,
    ]);
  });

  it("stops at 5 levels: the 6th detector's output is dropped and counted", async () => {
    // anti_debugging is level 1; levels 2 to 6 each take the one before.
    const levels: Detector[] = [2, 3, 4, 5, 6].map((level) =>
      defineDetector({
        definition: {
          id: `TEST-LEVEL-${level}`,
          requirements: { events: [{ name: level === 2 ? "anti_debugging" : `chain_level_${level - 1}` }] },
          producedEvent: { name: `chain_level_${level}` },
          autoPopulate: { detectedFrom: true },
        },
        onEvent: () => detected(),
      }),
    );
    h = await DetectorHarness.create([antiDebugging, ...levels]);
    const lines = await h.json(ptrace());
    // detected_from of level n names level n-1, down to the ptrace call.
    let from = `{"id":7500,"name":"anti_debugging","parent":${PTRACE_FROM}}`;
    const expected = [ANTI_DEBUGGING_LINE];
    for (let level = 2; level <= 5; level++) {
      expected.push(`${START(7499 + level, `chain_level_${level}`)},"detected_from":${from}}`);
      from = `{"id":${7499 + level},"name":"chain_level_${level}","parent":${from}}`;
    }
    expect(lines).toEqual(expected);
    const stats = h.stats();
    expect(stats.chainDepthExceeded).toBe(1);
    expect(stats.participants["TEST-LEVEL-6"]).toMatchObject({ processed: 1, produced: 1 });
    expect(stats.written).toBe(5);
    expect(h.logs.some((l) => l.level === "error" && l.msg.includes("chain"))).toBe(true);
  });
});
