/**
 * grpc-js method definitions of the DataSourceService, with raw `Buffer`
 * messages: requests go out as the bytes given and responses come back as
 * bytes; only the request deserializer varies (this SDK's decoder on the
 * server, identity for tests and benches that want the bytes).
 *
 * @internal
 * @module
 */
import type { ServerMethodDefinition } from "@grpc/grpc-js";

const identity = (b: Buffer): Buffer => b;

/**
 * A method definition whose requests are sent as bytes and read as `Request`,
 * and whose responses are bytes; fits grpc-js's `ServiceDefinition`.
 *
 * @internal
 */
export interface RawMethodDefinition<Request> extends ServerMethodDefinition<Request, Buffer> {
  requestSerialize: (value: Buffer) => Buffer;
  responseDeserialize: (bytes: Buffer) => Buffer;
}

/**
 * The definition of one unary-response method at `path` (`/package.Service/Method`).
 * Requests are serialized as given and read with `deserialize`; responses
 * pass through as bytes both ways.
 *
 * @internal
 */
export function methodDefinition<Request = Buffer>(
  path: string,
  requestStream: boolean,
  deserialize: (bytes: Buffer) => Request = identity as (bytes: Buffer) => Request,
): RawMethodDefinition<Request> {
  const method = path.slice(path.lastIndexOf("/") + 1);
  return {
    path,
    requestStream,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: deserialize,
    responseSerialize: identity,
    responseDeserialize: identity,
    originalName: method.charAt(0).toLowerCase() + method.slice(1),
  };
}
