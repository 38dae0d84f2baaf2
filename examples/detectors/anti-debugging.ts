/**
 * TRC-102 `anti_debugging`, ported from Tracee's Go detector
 * (detectors/anti_debugging.go).
 *
 * A process that calls `ptrace(PTRACE_TRACEME)` asks its parent to trace
 * it; as a process can have only one tracer, that also keeps any debugger
 * from attaching later, so malware uses it to resist analysis.
 *
 * All the logic is in the requirement's data filter, as in Tracee: the
 * engine calls `onEvent` only for a `ptrace` whose `request` is
 * PTRACE_TRACEME, and every such call is a detection.
 *
 * One addition: Tracee's detectors see the raw request number (0), because
 * Tracee decodes arguments only when it prints them. This engine reads what
 * Tracee printed, so with `decoded-data` on the request arrives as the
 * string `"PTRACE_TRACEME"`; the filter accepts both forms.
 */
import { defineDetector, detected } from "tracee-ds/engine";
import { Severity } from "tracee-ds/events";

export const antiDebugging = defineDetector({
  definition: {
    id: "TRC-102",
    requirements: {
      events: [
        {
          name: "ptrace",
          // 0 is PTRACE_TRACEME; the name is how decoded-data prints it.
          dataFilters: ["request=0,PTRACE_TRACEME"],
        },
      ],
    },
    producedEvent: {
      name: "anti_debugging",
      description: "A process used anti-debugging techniques to block a debugger",
      version: "1.0.0",
    },
    threat: {
      name: "Anti-Debugging detected",
      description:
        "A process used anti-debugging techniques to block a debugger. Malware use anti-debugging to stay invisible and inhibit analysis of their behavior.",
      severity: Severity.LOW,
      mitre: {
        tactic: { name: "Defense Evasion" },
        technique: { id: "T1622", name: "Debugger Evasion" },
      },
      properties: { Category: "defense-evasion" },
    },
    autoPopulate: { threat: true, detectedFrom: true },
  },
  // The filter already matched: the event itself is the detection.
  onEvent: () => detected(),
});

export default antiDebugging;
