/**
 * One StreamEvents call over this SDK's own gRPC transport: loaded by
 * `streamEvents` when it starts, so that `tracee-ds/events` itself never
 * loads grpc-js.
 *
 * @internal
 * @module
 */
import { credentials as grpcCredentials, Metadata, status as Status } from "@grpc/grpc-js";
import { TRACEE_DEFAULT_ADDRESS } from "../../grpc/address.js";
import type { Call } from "../../grpc/transport/call.js";
import { Channel, ChannelError } from "../../grpc/transport/channel.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, DialError, dialTarget } from "../../grpc/transport/dial.js";
import { frameMessage } from "../../grpc/transport/framing.js";
import { StreamEventsRequest } from "../../gen/tracee/v1beta1/tracee.js";
import { decodeStreamEventsResponse } from "../binary.js";
import type { TraceeEvent } from "../model.js";
import { type EventStreamSession, type StreamEventsOptions, StreamEventsError } from "./grpc.js";

/** The HTTP/2 path of `TraceeService.StreamEvents`. */
export const STREAM_EVENTS_PATH = "/tracee.v1beta1.TraceeService/StreamEvents";

function errnoOf(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof DialError) return e.errno;
  }
  return undefined;
}

/** Opens a session for one StreamEvents call with `options`. @internal */
export function openEventStream(options: StreamEventsOptions): EventStreamSession {
  const target = dialTarget(options.address ?? TRACEE_DEFAULT_ADDRESS);
  const channel = new Channel(target, options.credentials ?? grpcCredentials.createInsecure(), {}, {
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    maxConcurrentCalls: 1,
  });
  const request = frameMessage(
    StreamEventsRequest.encode({
      policies: [...(options.policies ?? [])],
      mask: options.mask === undefined ? undefined : [...options.mask],
    }).finish(),
  );
  let call: Call | undefined;
  let closed = false;

  return {
    async run(onEvent, onStarted) {
      let failure: StreamEventsError | undefined;
      let startedEvents = false;
      const onMessage = (bytes: Buffer) => {
        if (!startedEvents) {
          startedEvents = true;
          onStarted();
        }
        let event: TraceeEvent | undefined;
        try {
          event = decodeStreamEventsResponse(bytes);
        } catch (err) {
          failure = new StreamEventsError(Status.INTERNAL, `Tracee sent an event that does not decode: ${(err as Error).message}`);
          call?.cancel({ code: Status.INTERNAL, details: failure.details });
          return;
        }
        if (event === undefined) return;
        const room = onEvent(event);
        if (room !== undefined) {
          // The queue is full and blocks: read no more until it has room.
          call?.pauseReading();
          void room.then(() => call?.resumeReading());
        }
      };
      let started: Call;
      try {
        started = await channel.start({
          path: STREAM_EVENTS_PATH,
          metadata: options.metadata?.clone() ?? new Metadata(),
          deadline: undefined,
          onMessage,
        });
      } catch (err) {
        if (err instanceof ChannelError) return new StreamEventsError(err.code, err.details, errnoOf(err), { cause: err });
        throw err;
      }
      call = started;
      if (closed) started.cancel({ code: Status.CANCELLED, details: "closed" });
      started.end(request);
      const status = await started.status;
      // Accepted, even if no event came: a later failure is the stream's, not the request's.
      if (!startedEvents && started.responded) onStarted();
      if (failure !== undefined) return failure;
      return status.code === Status.OK ? undefined : new StreamEventsError(status.code, status.details);
    },
    close() {
      closed = true;
      call?.cancel({ code: Status.CANCELLED, details: "the event stream was closed" });
      channel.close();
    },
  };
}
