/**
 * `tableOutput`: one readable line per event, for a terminal.
 *
 * @module
 */
import { type EventDataValue, eventData } from "../../events/data.js";
import { type Timestamp, type TraceeEvent, Severity } from "../../events/model.js";
import { getContainerId, getProcessPid, getProcessThreadName } from "../../events/workload.js";
import { openOutputFile, type OutputStream, StreamSink } from "./stream.js";
import type { EventOutput, OutputErrorHandler, OutputStats } from "./types.js";

/** Options of {@link tableOutput} and {@link formatTableRow}. */
export interface TableOutputOptions {
  /**
   * Cut each line to this many characters (with `…`). Default: the stream's
   * `columns` when it is a terminal (`isTTY`), read at each line so a resize
   * applies; no cut otherwise. `false`: never cut.
   */
  readonly columns?: number | false;
  /** The clock of the TIME column (default `"utc"`; `"local"`: the process's time zone). */
  readonly timeZone?: "utc" | "local";
  /** Print the header line before the first event (default `true`). */
  readonly header?: boolean;
  /** A file path: append instead of truncating (default `false`). */
  readonly append?: boolean;
  /** A stream: end it on `close()` (default `false`). */
  readonly end?: boolean;
  /** Called once, with the stream's first error; failures are counted in `stats().failed`. */
  readonly onError?: OutputErrorHandler;
}

/** The widths of the fixed columns; the summary takes the rest. */
const WIDTH = { time: 12, name: 24, severity: 8, process: 22, container: 12 } as const;

/** Longest a single data value is shown. */
const MAX_VALUE_CHARS = 64;

const SEVERITY_NAMES: Readonly<Record<number, string>> = {
  [Severity.INFO]: "INFO",
  [Severity.LOW]: "LOW",
  [Severity.MEDIUM]: "MEDIUM",
  [Severity.HIGH]: "HIGH",
  [Severity.CRITICAL]: "CRITICAL",
};

function row(cells: readonly [string, string, string, string, string, string]): string {
  const [time, name, severity, proc, container, summary] = cells;
  const cell = (text: string, width: number) => (Array.from(text).length >= width ? `${text} ` : text.padEnd(width + 1));
  return (
    cell(time, WIDTH.time) +
    cell(name, WIDTH.name) +
    cell(severity, WIDTH.severity) +
    cell(proc, WIDTH.process) +
    cell(container, WIDTH.container) +
    summary
  ).trimEnd();
}

/** Escapes C0/C1 control characters and DEL as `\xNN`: what a traced process names itself cannot drive the terminal. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const safe = (text: string): string => text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);

/** Cuts `text` to `max` code points, the last one `…`. */
function shorten(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return max <= 1 ? chars.slice(0, max).join("") : `${chars.slice(0, max - 1).join("")}…`;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** `HH:MM:SS.mmm`, or `-` without a usable timestamp. */
function timeOfDay(ts: Timestamp | undefined, zone: "utc" | "local"): string {
  if (ts === undefined) return "-";
  const date = new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000));
  if (Number.isNaN(date.getTime())) return "-";
  const [h, m, s] =
    zone === "utc"
      ? [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
      : [date.getHours(), date.getMinutes(), date.getSeconds()];
  return `${pad2(h)}:${pad2(m)}:${pad2(s)}.${String(Math.floor(ts.nanos / 1_000_000)).padStart(3, "0")}`;
}

/** A string bare when it reads unambiguously, JSON-quoted otherwise. */
const text = (s: string): string => (/^[^\s"'=\\[\]{},\u0000-\u001f\u007f-\u009f]+$/.test(s) ? s : JSON.stringify(s));

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return value;
}

/** One data value, compact. */
function formatValue(value: EventDataValue | unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return text(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (Array.isArray(value)) return `[${value.map((v: unknown) => formatValue(v)).join(",")}]`;
  return safe(JSON.stringify(value, jsonReplacer) ?? "null");
}

/** `name=value name=value`, each value cut to {@link MAX_VALUE_CHARS}. */
function dataSummary(event: TraceeEvent): string {
  return Object.entries(eventData(event))
    .map(([name, value]) => `${safe(name)}=${shorten(formatValue(value), MAX_VALUE_CHARS)}`)
    .join(" ");
}

/** The header line of {@link tableOutput}, for the given clock. */
export function tableHeader(options: Pick<TableOutputOptions, "timeZone"> = {}): string {
  const zone = options.timeZone ?? "utc";
  return row([zone === "utc" ? "TIME(UTC)" : "TIME", "EVENT", "SEVERITY", "PROCESS", "CONTAINER", "SUMMARY"]);
}

/**
 * One event as a {@link tableOutput} line (no newline): TIME `HH:MM:SS.mmm`,
 * EVENT name, SEVERITY (the threat's, `-` for an event without one),
 * PROCESS `comm:pid` (the pid in its namespace, `-` when unknown),
 * CONTAINER the id's first 12 characters (`-` on the host), and SUMMARY: for
 * a detection its threat's name then its data, else the data as
 * `name=value` pairs. Control characters are escaped; `columns` (a number)
 * cuts the line.
 */
export function formatTableRow(event: TraceeEvent, options: Pick<TableOutputOptions, "timeZone" | "columns"> = {}): string {
  const comm = getProcessThreadName(event);
  const pid = getProcessPid(event);
  const container = getContainerId(event);
  const threat = event.threat;
  const data = dataSummary(event);
  const summary =
    threat === undefined || threat.name === "" ? data : data === "" ? safe(threat.name) : `${safe(threat.name)}  ${data}`;
  const line = row([
    timeOfDay(event.timestamp, options.timeZone ?? "utc"),
    safe(event.name),
    threat === undefined ? "-" : (SEVERITY_NAMES[threat.severity] ?? String(threat.severity)),
    comm === "" && pid === 0 ? "-" : `${safe(comm)}:${pid}`,
    container === "" ? "-" : safe(container.slice(0, 12)),
    summary,
  ]);
  const columns = options.columns;
  return typeof columns === "number" && columns > 0 ? shorten(line, columns) : line;
}

/**
 * Prints each event as one readable line ({@link formatTableRow}) after a
 * header, for a person at a terminal: to `target`, a stream, or a file path
 * (opened as `jsonOutput` opens one). Lines are cut to the terminal's
 * width when the stream is a TTY (see {@link TableOutputOptions.columns});
 * wide characters (CJK, emoji) count as one column.
 *
 * Backpressure, counting, `flush()` and `close()` as `jsonOutput`.
 */
export function tableOutput(target: OutputStream | string, options: TableOutputOptions = {}): EventOutput {
  const owned = typeof target === "string";
  const stream: OutputStream = owned ? openOutputFile(target, options.append === true) : target;
  const sink = new StreamSink(stream, owned || options.end === true, "tableOutput", options.onError);
  const zone = options.timeZone ?? "utc";
  let header = options.header !== false;
  const columns = (): number | undefined => {
    if (options.columns === false) return undefined;
    if (options.columns !== undefined) return options.columns;
    return stream.isTTY === true && typeof stream.columns === "number" && stream.columns > 0 ? stream.columns : undefined;
  };
  return {
    write(event: TraceeEvent): void | Promise<void> {
      if (sink.closed) throw new Error("tableOutput: write after close");
      const width = columns();
      let out = `${formatTableRow(event, { timeZone: zone, ...(width === undefined ? {} : { columns: width }) })}\n`;
      if (header) {
        header = false;
        const head = tableHeader({ timeZone: zone });
        out = `${width === undefined ? head : shorten(head, width)}\n${out}`;
      }
      return sink.write(out);
    },
    flush: () => sink.flush(),
    close: () => sink.close(),
    stats: (): OutputStats => sink.stats(),
  };
}
