import { processEvent, type ProcessEvent } from "./signature.js";
import type { Event } from "tracee-ds";

/** A synthetic process: how many files it opens before it exits. */
export interface SyntheticProcess {
  readonly pid: number;
  readonly name: string;
  readonly opens: number;
}

export const WORKLOAD: readonly SyntheticProcess[] = [
  { pid: 101, name: "nginx", opens: 3 },
  { pid: 202, name: "backup.sh", opens: 8 },
  { pid: 303, name: "xmrig", opens: 40 },
];

/** The events Tracee would see for `processes`: their file opens, then their exits. */
export function* workloadEvents(processes: readonly SyntheticProcess[]): Generator<Event<ProcessEvent>> {
  for (const p of processes) {
    for (let i = 0; i < p.opens; i++) {
      yield processEvent({
        eventName: "security_file_open",
        hostProcessId: p.pid,
        processName: p.name,
        pathname: `/var/lib/${p.name}/file-${i}`,
      });
    }
  }
  for (const p of processes) {
    yield processEvent({ eventName: "sched_process_exit", hostProcessId: p.pid, processName: p.name });
  }
}
