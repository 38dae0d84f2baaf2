/**
 * Output specs as the command line gives them (`--output json:PATH`), in
 * Tracee's forms: `parseOutputSpec` and `openOutput`.
 *
 * @module
 */
import { jsonOutput } from "./json.js";
import type { OutputStream } from "./stream.js";
import { type TableOutputOptions, tableOutput } from "./table.js";
import type { EventOutput, OutputErrorHandler } from "./types.js";
import { type WebhookOutputOptions, webhookOutput } from "./webhook.js";

/**
 * A parsed output spec. `json` and `table` without a `path` go to standard
 * output; `webhook` carries what Tracee reads from the URL's query
 * (`timeout`, `contentType`) when given.
 */
export type OutputSpec =
  | { readonly kind: "json"; readonly path?: string }
  | { readonly kind: "table"; readonly path?: string }
  | { readonly kind: "webhook"; readonly url: string; readonly timeoutMs?: number; readonly contentType?: string };

const BRAND: unique symbol = Symbol.for("tracee-ds.OutputSpecError");

/** An output spec that cannot be used: `spec` is the text given, the message says why and names it. */
export class OutputSpecError extends Error {
  /** @internal */
  readonly [BRAND] = true;
  constructor(
    /** The spec as given. */
    readonly spec: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`output ${JSON.stringify(spec)}: ${reason}`, options);
    this.name = "OutputSpecError";
  }
}

/** Whether `value` is an {@link OutputSpecError} from any copy of this package. */
export function isOutputSpecError(value: unknown): value is OutputSpecError {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** The forms, for error messages. */
export const OUTPUT_SPEC_FORMS = "json, json:PATH, table, table:PATH or webhook:URL";

const GO_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration (`10s`, `1m30s`, `500ms`, `1.5s`) in milliseconds, or `undefined`. */
function parseGoDuration(text: string): number | undefined {
  if (text === "0") return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let ms = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const match = part.exec(text);
    if (match === null) return undefined;
    ms += Number(match[1]) * (GO_UNITS[match[2] as string] ?? Number.NaN);
    at = part.lastIndex;
  }
  return at === 0 || !Number.isFinite(ms) ? undefined : ms;
}

function parseWebhook(spec: string, rest: string): OutputSpec {
  if (rest === "") throw new OutputSpecError(spec, "webhook needs a URL: webhook:http://HOST:PORT/PATH");
  let url: URL;
  try {
    url = new URL(rest);
  } catch {
    throw new OutputSpecError(spec, `not a URL: ${JSON.stringify(rest)} (expected webhook:http://HOST:PORT/PATH)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OutputSpecError(spec, `webhook needs an http or https URL, got ${url.protocol.replace(/:$/, "")}`);
  }
  if (url.hostname === "") throw new OutputSpecError(spec, "the webhook URL has no host");
  // Tracee reads the first non-empty value of each parameter.
  const param = (name: string) => url.searchParams.getAll(name).find((v) => v !== "");
  for (const name of url.searchParams.keys()) {
    if (name.startsWith("gotemplate")) {
      throw new OutputSpecError(spec, "Go templates (gotemplate=) are not supported: webhook bodies are Tracee's JSON");
    }
  }
  const timeout = param("timeout");
  let timeoutMs: number | undefined;
  if (timeout !== undefined) {
    timeoutMs = parseGoDuration(timeout);
    if (timeoutMs === undefined) {
      throw new OutputSpecError(spec, `timeout: expected a duration such as 10s, 500ms or 1m30s, got ${JSON.stringify(timeout)}`);
    }
    if (timeoutMs <= 0) throw new OutputSpecError(spec, "timeout must be greater than zero");
  }
  const contentType = param("contentType");
  return {
    kind: "webhook",
    url: rest,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(contentType === undefined ? {} : { contentType }),
  };
}

/**
 * Parses an output spec, in the forms of Tracee's `--output`:
 *
 * - `json`, `json:stdout`, `json:-`: Tracee's JSON lines on standard output;
 *   `json:PATH`: to a file (created, truncated).
 * - `table`, `table:stdout`, `table:-`: the readable table on standard
 *   output; `table:PATH`: to a file.
 * - `webhook:URL`: one POST per event to an `http:` or `https:` URL. As in
 *   Tracee, `?timeout=5s` (a Go duration) and `?contentType=…` in the URL
 *   set the timeout and `Content-Type`; the URL is posted to as given.
 *
 * One path per spec (Tracee's `json:a,b` is refused: give two specs).
 * Tracee's `forward:`, `gotemplate=` and `none` are refused. Throws an
 * {@link OutputSpecError} naming the spec and the reason.
 *
 * @example
 * ```ts
 * parseOutputSpec("json:/var/log/findings.ndjson"); // { kind: "json", path: "/var/log/findings.ndjson" }
 * parseOutputSpec("webhook:http://127.0.0.1:8080/x?timeout=2s"); // { kind: "webhook", url: …, timeoutMs: 2000 }
 * ```
 */
export function parseOutputSpec(spec: string): OutputSpec {
  if (typeof spec !== "string" || spec.trim() === "") throw new OutputSpecError(String(spec), `empty; expected ${OUTPUT_SPEC_FORMS}`);
  const colon = spec.indexOf(":");
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? undefined : spec.slice(colon + 1);
  switch (kind) {
    case "json":
    case "table": {
      if (rest === undefined || rest === "stdout" || rest === "-") return { kind };
      if (rest === "") throw new OutputSpecError(spec, `${kind}: needs a file path after the colon (or drop the colon for standard output)`);
      if (rest.includes(",")) {
        throw new OutputSpecError(spec, "one path per output: give each file its own --output");
      }
      return { kind, path: rest };
    }
    case "webhook":
      return parseWebhook(spec, rest ?? "");
    case "forward":
      throw new OutputSpecError(spec, `Tracee's forward (Fluent Forward) output is not supported; expected ${OUTPUT_SPEC_FORMS}`);
    case "none":
      throw new OutputSpecError(spec, `"none" is not supported; expected ${OUTPUT_SPEC_FORMS}`);
    default:
      if (kind.startsWith("gotemplate=")) throw new OutputSpecError(spec, `Go templates are not supported; expected ${OUTPUT_SPEC_FORMS}`);
      throw new OutputSpecError(spec, `unknown output ${JSON.stringify(kind)}; expected ${OUTPUT_SPEC_FORMS}`);
  }
}

/** Options of {@link openOutput}. */
export interface OpenOutputOptions {
  /** Standard output, for `json` and `table` without a path (never closed by the output). */
  readonly stdout: OutputStream;
  /** Passed to the output: called on delivery failures, which are counted either way. */
  readonly onError?: OutputErrorHandler;
  /** Files: append instead of truncating (default `false`, as Tracee). */
  readonly append?: boolean;
  /** More options for a `table` output. */
  readonly table?: Pick<TableOutputOptions, "columns" | "timeZone" | "header">;
  /** More options for a `webhook` output; the spec's `timeout` and `contentType` win. */
  readonly webhook?: Omit<WebhookOutputOptions, "onError">;
}

/**
 * Builds the output a spec names ({@link parseOutputSpec} for a string).
 * A file is opened here, so a path that cannot be written throws an
 * {@link OutputSpecError} with the system's error as `cause`.
 *
 * @example
 * ```ts
 * const out = openOutput("json", { stdout: process.stdout });
 * ```
 */
export function openOutput(spec: string | OutputSpec, options: OpenOutputOptions): EventOutput {
  const parsed = typeof spec === "string" ? parseOutputSpec(spec) : spec;
  const text = typeof spec === "string" ? spec : describe(spec);
  const onError = options.onError === undefined ? {} : { onError: options.onError };
  try {
    switch (parsed.kind) {
      case "json":
        return parsed.path === undefined
          ? jsonOutput(options.stdout, onError)
          : jsonOutput(parsed.path, { ...onError, append: options.append === true });
      case "table":
        return parsed.path === undefined
          ? tableOutput(options.stdout, { ...options.table, ...onError })
          : tableOutput(parsed.path, { ...options.table, ...onError, append: options.append === true });
      case "webhook":
        return webhookOutput(parsed.url, {
          ...options.webhook,
          ...onError,
          ...(parsed.timeoutMs === undefined ? {} : { timeoutMs: parsed.timeoutMs }),
          ...(parsed.contentType === undefined ? {} : { contentType: parsed.contentType }),
        });
    }
  } catch (err) {
    if (isOutputSpecError(err)) throw err;
    const reason =
      parsed.kind === "webhook"
        ? (err as Error).message
        : `cannot open ${parsed.path ?? "standard output"}: ${(err as Error).message}`;
    throw new OutputSpecError(text, reason, { cause: err });
  }
}

/** A spec object back as text, for messages. */
function describe(spec: OutputSpec): string {
  if (spec.kind === "webhook") return `webhook:${spec.url}`;
  return spec.path === undefined ? spec.kind : `${spec.kind}:${spec.path}`;
}
