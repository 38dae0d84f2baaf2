/**
 * gRPC over HTTP/2, the parts that turn what a server sends into a status:
 * trailers, HTTP status codes, RST_STREAM codes; and the `grpc-timeout`
 * header a client sends. Rules from the gRPC HTTP/2 protocol spec.
 *
 * @internal
 * @module
 */
import { ErrorCode } from "./h2/frames.js";
import { status as Status } from "@grpc/grpc-js";

/** Response headers or trailers by name; a name sent more than once keeps every value. @internal */
export type ResponseHeaders = Record<string, string | string[]>;

/** A call's outcome: a gRPC status code, its message, and the trailers it came in. @internal */
export interface CallStatus {
  readonly code: Status;
  readonly details: string;
  /** The server's trailing metadata, when the status came from the server. */
  readonly trailers?: ResponseHeaders;
  /** The server refused the stream before processing any of it: the call may be sent again. */
  readonly refused?: boolean;
}

const headerText = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

/** Header fields as one object: a name sent more than once keeps every value, in order. @internal */
export function headersOf(fields: readonly (readonly [string, string])[]): ResponseHeaders {
  const headers: ResponseHeaders = Object.create(null);
  for (const [name, value] of fields) {
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else headers[name] = [seen, value];
  }
  return headers;
}

/** `grpc-message` as a server sends it: bytes outside printable ASCII, and `%`, percent-encoded. */
export function encodeGrpcMessage(text: string): string {
  return Array.from(Buffer.from(text, "utf8"), (b) =>
    b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`,
  ).join("");
}

/**
 * `grpc-message` is percent-encoded (RFC 3986 style) by the sender; a
 * malformed escape is kept as it is, as the spec asks.
 */
export function decodeGrpcMessage(text: string): string {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    // Decode each run of escapes on its own, so one bad escape keeps only its own run raw.
    return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/**
 * The status a server's trailers (or trailers-only response headers) carry,
 * or `undefined` when they hold no `grpc-status`.
 */
export function statusFromTrailers(trailers: ResponseHeaders): CallStatus | undefined {
  const raw = headerText(trailers["grpc-status"]);
  if (raw === undefined) return undefined;
  const code = Number(raw);
  const details = decodeGrpcMessage(headerText(trailers["grpc-message"]) ?? "");
  if (!Number.isInteger(code) || code < 0 || code > 16) {
    return { code: Status.UNKNOWN, details: `server sent an invalid grpc-status ${JSON.stringify(raw)}`, trailers };
  }
  return { code, details, trailers };
}

/** The status of a response whose HTTP status is not 200 (gRPC spec's mapping). */
export function statusFromHttp(httpStatus: number): CallStatus {
  const code =
    httpStatus === 400
      ? Status.INTERNAL
      : httpStatus === 401
        ? Status.UNAUTHENTICATED
        : httpStatus === 403
          ? Status.PERMISSION_DENIED
          : httpStatus === 404
            ? Status.UNIMPLEMENTED
            : httpStatus === 429 || httpStatus === 502 || httpStatus === 503 || httpStatus === 504
              ? Status.UNAVAILABLE
              : Status.UNKNOWN;
  return { code, details: `server answered HTTP ${httpStatus}, not a gRPC response` };
}

/** The status of a stream the server reset before sending a status (gRPC spec's mapping). */
export function statusFromReset(rstCode: number): CallStatus {
  switch (rstCode) {
    case ErrorCode.REFUSED_STREAM:
      return { code: Status.UNAVAILABLE, details: "the server refused the stream before processing it (REFUSED_STREAM)", refused: true };
    case ErrorCode.CANCEL:
      return { code: Status.CANCELLED, details: "the server cancelled the stream" };
    case ErrorCode.ENHANCE_YOUR_CALM:
      return { code: Status.RESOURCE_EXHAUSTED, details: "the server reset the stream (ENHANCE_YOUR_CALM)" };
    case ErrorCode.INADEQUATE_SECURITY:
      return { code: Status.PERMISSION_DENIED, details: "the server reset the stream (INADEQUATE_SECURITY)" };
    default:
      return { code: Status.INTERNAL, details: `the server reset the stream (HTTP/2 error ${rstCode})` };
  }
}

/** The deadline (ms since the epoch) a `grpc-timeout` header gives, or Infinity for none or a malformed one. */
export function deadlineFromGrpcTimeout(timeout: string | undefined): number {
  if (timeout === undefined) return Number.POSITIVE_INFINITY;
  const match = /^(\d{1,8})([HMSmun])$/.exec(timeout);
  if (match === null) return Number.POSITIVE_INFINITY;
  const scale = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 }[match[2] as "H"];
  return Date.now() + Number(match[1]) * scale;
}

/**
 * The `grpc-timeout` header for `ms` milliseconds: at most eight digits, in
 * the finest unit that fits, rounded up so the server never ends a call early.
 */
export function grpcTimeout(ms: number): string {
  const units: [number, string][] = [
    [1, "m"],
    [1000, "S"],
    [60_000, "M"],
    [3_600_000, "H"],
  ];
  for (const [scale, unit] of units) {
    const amount = Math.ceil(Math.max(0, ms) / scale);
    if (amount < 100_000_000) return `${amount}${unit}`;
  }
  return "99999999H";
}
