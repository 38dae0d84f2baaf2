/**
 * The statuses the DataSourceService answers with, and how it sends them.
 *
 * @internal
 * @module
 */
import { type sendUnaryData, status as Status } from "@grpc/grpc-js";

/** A status to send. @internal */
export class CallStatus {
  constructor(
    readonly code: Status,
    readonly details: string,
  ) {}
}

const EMPTY = Buffer.alloc(0);

/** Answers a call: OK with the empty response for `null`, else the status. @internal */
export function reply(callback: sendUnaryData<Buffer>, status: CallStatus | null): void {
  if (status === null) callback(null, EMPTY);
  else callback({ code: status.code, details: status.details });
}

/** `(namespace: ns, id: id)`, as Tracee names a data source in its messages. @internal */
export function target(namespace: string, id: string): string {
  return `(namespace: ${namespace}, id: ${id})`;
}

/** The first line of an error's message, at most 300 characters: never a stack. @internal */
export function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : typeof err === "string" ? err : "";
  const line = message.split("\n", 1)[0] ?? "";
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
