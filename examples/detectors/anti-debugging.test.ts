/**
 * TRC-102 through the engine: the JSON line Tracee printed for a real
 * anti_debugging detection (test/fixtures/events/v1beta1.ndjson, line 14),
 * reproduced from the ptrace event it names in detected_from.
 */
import { decodeEventJson } from "tracee-ds/events";
import { DetectorHarness } from "tracee-ds/testing";
import { afterEach, describe, expect, it } from "vitest";
import { antiDebugging } from "./anti-debugging.js";

/** The fields the input and the detection share: time, policies, workload. */
const HEAD = `"timestamp":"2023-03-29T19:44:47.787203746Z"`;
const TAIL = `"policies":{"matched":[""]},"workload":{"process":{"unique_id":0,"host_pid":95599,"pid":95599,"real_user":{"id":1000},"thread":{"start_time":"2023-03-29T19:44:47.787109775Z","name":"strace","unique_id":0,"host_tid":95599,"tid":95599}}}`;
const ARGS = (request: string) => `[{"name":"request",${request}},{"name":"pid","int32":0},{"name":"addr","pointer":"0"},{"name":"data","pointer":"0"},{"name":"returnValue","int64":"0"}]`;

/** A ptrace call with `request` as its JSON value member, by strace (95599) or the process `pid`. */
const ptrace = (request: string, pid = 95599) =>
  decodeEventJson(`{${HEAD},"id":101,"name":"ptrace",${TAIL.replaceAll("95599", String(pid))},"data":${ARGS(request)}}`);

/** Tracee's line, as printed (with the id the default build gave it, 7500). */
const FIXTURE_LINE = `{"timestamp":"2023-03-29T19:44:47.787203746Z","id":7500,"name":"anti_debugging","policies":{"matched":[""]},"workload":{"process":{"unique_id":0,"host_pid":95599,"pid":95599,"real_user":{"id":1000},"thread":{"start_time":"2023-03-29T19:44:47.787109775Z","name":"strace","unique_id":0,"host_tid":95599,"tid":95599}}},"threat":{"description":"A process used anti-debugging techniques to block a debugger. Malware use anti-debugging to stay invisible and inhibit analysis of their behavior.","mitre":{"tactic":{"name":"Defense Evasion"},"technique":{"id":"T1622","name":"Debugger Evasion"}},"severity":1,"name":"Anti-Debugging detected","properties":{"Category":"defense-evasion"}},"detected_from":{"id":101,"name":"ptrace","data":[{"name":"request","int64":"0"},{"name":"pid","int32":0},{"name":"addr","pointer":"0"},{"name":"data","pointer":"0"},{"name":"returnValue","int64":"0"}]}}`;

describe("TRC-102 anti_debugging", () => {
  let h: DetectorHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("prints, for ptrace(PTRACE_TRACEME), the line Tracee printed", async () => {
    h = await DetectorHarness.create(antiDebugging);
    expect(await h.json(ptrace(`"int64":"0"`))).toEqual([FIXTURE_LINE]);
  });

  it("also fires on the request as decoded-data prints it", async () => {
    h = await DetectorHarness.create(antiDebugging);
    expect(await h.json(ptrace(`"str":"PTRACE_TRACEME"`))).toEqual([
      FIXTURE_LINE.replace(`{"name":"request","int64":"0"}`, `{"name":"request","str":"PTRACE_TRACEME"}`),
    ]);
  });

  it("ignores every other request, filtered before onEvent", async () => {
    h = await DetectorHarness.create(antiDebugging);
    // PTRACE_ATTACH (16) and PTRACE_PEEKDATA (2), raw and decoded; a request missing altogether.
    const others = [`"int64":"16"`, `"str":"PTRACE_ATTACH"`, `"int64":"2"`].map((request) => ptrace(request));
    const noRequest = decodeEventJson(`{${HEAD},"id":101,"name":"ptrace",${TAIL},"data":[{"name":"pid","int32":0}]}`);
    expect(await h.json(...others, noRequest)).toEqual([]);
    expect(h.stats().participants["TRC-102"]?.processed ?? 0).toBe(0);
  });

  it("fires once per PTRACE_TRACEME, whoever calls it", async () => {
    h = await DetectorHarness.create(antiDebugging);
    const outputs = await h.feed(ptrace(`"int64":"0"`), ptrace(`"int64":"0"`, 4242));
    expect(outputs.map((e) => [e.name, e.workload?.process?.pid])).toEqual([
      ["anti_debugging", 95599],
      ["anti_debugging", 4242],
    ]);
  });
});
