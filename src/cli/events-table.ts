/**
 * `tracee-ds events --format table`: one readable line per event. Every
 * field comes from the traced system (a process names itself), so control
 * characters are escaped: a line stays one line and cannot drive the
 * terminal.
 *
 * @internal
 * @module
 */
import {
  type EventDataValue,
  eventData,
  getContainerId,
  getProcessPid,
  getProcessThreadName,
  type Timestamp,
  type TraceeEvent,
} from "../events/index.js";

/** Longest a single data value is shown. */
const MAX_VALUE_CHARS = 64;

const WIDTH = { time: 15, name: 24, process: 22, container: 12 } as const;

/** The header line above the events. @internal */
export const TABLE_HEADER = row("TIME(UTC)", "EVENT", "PROCESS", "CONTAINER", "DATA");

function row(time: string, name: string, proc: string, container: string, data: string): string {
  const cell = (text: string, width: number) => (text.length >= width ? `${text} ` : text.padEnd(width + 1));
  return `${cell(time, WIDTH.time)} ${cell(name, WIDTH.name)} ${cell(proc, WIDTH.process)} ${cell(container, WIDTH.container)} ${data}`.trimEnd();
}

/** Escapes C0/C1 control characters and DEL as `\xNN`. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const safe = (text: string): string => text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);

/** `HH:MM:SS.ffffff` in UTC, or `-` without a timestamp. */
function timeOfDay(ts: Timestamp | undefined): string {
  if (ts === undefined) return "-";
  const date = new Date(Number(ts.seconds) * 1000);
  if (Number.isNaN(date.getTime())) return "-";
  const micros = String(Math.floor(ts.nanos / 1000)).padStart(6, "0");
  return `${date.toISOString().slice(11, 19)}.${micros}`;
}

function shorten(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

/** A string bare when it reads unambiguously, JSON-quoted otherwise. */
const text = (s: string): string => (/^[^\s"'=\\[\]{},\u0000-\u001f\u007f-\u009f]+$/.test(s) ? s : JSON.stringify(s));

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return value;
}

/** One data value, compact. @internal */
export function formatValue(value: EventDataValue | unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return text(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (Array.isArray(value)) return `[${value.map((v) => formatValue(v as unknown)).join(",")}]`;
  return safe(JSON.stringify(value, jsonReplacer) ?? "null");
}

/** The event's arguments as `name=value name=value`. @internal */
export function dataSummary(event: TraceeEvent): string {
  return Object.entries(eventData(event))
    .map(([name, value]) => `${safe(name)}=${shorten(formatValue(value), MAX_VALUE_CHARS)}`)
    .join(" ");
}

/**
 * One event as a table line: time, name, `comm/pid`, the container's short
 * id (`-` on the host) and its data. Cut to `columns` characters when given
 * (stdout is a terminal). @internal
 */
export function tableLine(event: TraceeEvent, columns?: number): string {
  const comm = getProcessThreadName(event);
  const pid = getProcessPid(event);
  const proc = comm === "" && pid === 0 ? "-" : `${safe(comm)}/${pid}`;
  const container = getContainerId(event);
  const line = row(
    timeOfDay(event.timestamp),
    safe(event.name),
    proc,
    container === "" ? "-" : safe(container.slice(0, 12)),
    dataSummary(event),
  );
  return columns !== undefined && columns > 1 ? shorten(line, columns) : line;
}

/** The header, cut like the lines. @internal */
export function tableHeader(columns?: number): string {
  return columns !== undefined && columns > 1 ? shorten(TABLE_HEADER, columns) : TABLE_HEADER;
}
