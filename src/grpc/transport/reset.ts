/**
 * Resetting a client stream with RST_STREAM CANCEL and nothing before it.
 *
 * `stream.close(code)` half-closes the writable side on its way (an
 * END_STREAM a server could take for a complete request, if the stream had
 * no id yet), so a call is reset the way `session.request`'s `signal` does
 * it: `stream.destroy(abortError)`, which node:http2 turns into RST_STREAM
 * CANCEL without ending the request. The error must be Node's own
 * `AbortError` (node:http2 checks its class); it is taken once from a
 * stream aborted by an already-aborted signal, which saves an
 * `AbortController` and its listeners on every call.
 *
 * @internal
 * @module
 */
import { type ClientHttp2Stream } from "node:http2";
import { addAbortSignal, PassThrough } from "node:stream";

type ErrorClass = new (message?: string) => Error;

function nodeAbortError(): ErrorClass | undefined {
  try {
    const probe = new PassThrough();
    probe.on("error", () => undefined);
    addAbortSignal(AbortSignal.abort(), probe);
    const error = probe.errored;
    return error?.name === "AbortError" ? (error.constructor as ErrorClass) : undefined;
  } catch {
    return undefined;
  }
}

const AbortErrorClass = nodeAbortError();

/** Whether resetting works without a signal here; else each call needs `session.request`'s `signal`. @internal */
export const resetsWithoutSignal = AbortErrorClass !== undefined;

/** Resets `stream` with RST_STREAM CANCEL, unless it is closed already. @internal */
export function resetStream(stream: ClientHttp2Stream, abort: AbortController | undefined): void {
  if (stream.closed || stream.destroyed) return;
  if (abort !== undefined) abort.abort();
  else stream.destroy(new (AbortErrorClass as ErrorClass)("The call was reset"));
}
