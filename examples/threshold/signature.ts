/**
 * A signature that uses the threshold data source: it reports a process that
 * opens more files than the threshold allows.
 *
 * It looks the data source up in `init` and refuses versions it does not
 * know, as Tracee's docs show, then reads the threshold on every event, so a
 * new threshold written from outside takes effect at once.
 */
import type {
  DataSource,
  Event,
  Signature,
  SignatureContext,
  SignatureEventSelector,
  SignatureMetadata,
} from "tracee-ds";
import { THRESHOLD_ID, THRESHOLD_NAMESPACE } from "./threshold-datasource.js";

/** The part of Tracee's `trace.Event` this signature reads. */
export interface ProcessEvent {
  readonly eventName: "security_file_open" | "sched_process_exit";
  readonly hostProcessId: number;
  readonly processName: string;
  readonly pathname?: string;
}

/** Builds the event Tracee would deliver for `payload`. */
export function processEvent(payload: ProcessEvent): Event<ProcessEvent> {
  return { headers: { selector: { source: "tracee", name: payload.eventName, origin: "host" } }, payload };
}

const metadata: SignatureMetadata = {
  id: "TRC-DS-1",
  version: "1",
  name: "Excessive file opens",
  eventName: "excessive_file_opens",
  description: "A process opened more files than the configured threshold.",
  tags: ["example"],
  properties: { Severity: 2 },
};

export class ExcessiveFileOpens implements Signature<ProcessEvent> {
  private ctx: SignatureContext | undefined;
  private thresholdData: DataSource | undefined;
  // open count per process, and the processes already reported
  private readonly opens = new Map<number, number>();
  private readonly reported = new Set<number>();

  getMetadata(): SignatureMetadata {
    return metadata;
  }

  getSelectedEvents(): SignatureEventSelector[] {
    return [
      { source: "tracee", name: "security_file_open", origin: "*" },
      { source: "tracee", name: "sched_process_exit", origin: "*" },
    ];
  }

  init(ctx: SignatureContext): void {
    const thresholdDataSource = ctx.getDataSource(THRESHOLD_NAMESPACE, THRESHOLD_ID);
    if (thresholdDataSource === undefined) {
      throw new Error("threshold data source not registered");
    }
    if (thresholdDataSource.version() > 1) {
      throw new Error("threshold data source version not supported, please update this signature");
    }
    this.ctx = ctx;
    this.thresholdData = thresholdDataSource;
  }

  onEvent(event: Event<ProcessEvent>): void {
    if (this.ctx === undefined || this.thresholdData === undefined) {
      throw new Error("signature used before init");
    }
    const { eventName, hostProcessId: pid } = event.payload;
    if (eventName === "sched_process_exit") {
      this.opens.delete(pid);
      this.reported.delete(pid);
      return;
    }
    const opens = (this.opens.get(pid) ?? 0) + 1;
    this.opens.set(pid, opens);
    const { threshold } = this.thresholdData.get("threshold");
    if (typeof threshold !== "number") throw new Error("threshold data source returned no number");
    if (opens > threshold && !this.reported.has(pid)) {
      this.reported.add(pid);
      this.ctx.callback({
        data: { processName: event.payload.processName, pid, opens, threshold },
        event,
        sigMetadata: metadata,
      });
    }
  }

  onSignal(): void {}

  close(): void {
    this.opens.clear();
    this.reported.clear();
  }
}
