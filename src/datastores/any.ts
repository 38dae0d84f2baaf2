/**
 * `google.protobuf.Any` for datastores: the message types a store's keys and
 * data are packed as, packing and unpacking with Go's `anypb` rules, and a
 * registry of the types this SDK and its user know.
 *
 * Type URLs: packing writes `type.googleapis.com/<full name>`; unpacking reads
 * the full name as Go's `anypb` does — the text after the last `/`, or the
 * whole URL when it has none — so `example.com/x/tracee.v1beta1.datastores.IPAddressKey`
 * and the bare `tracee.v1beta1.datastores.IPAddressKey` both name that type.
 *
 * @module
 */
import { invalidArgument } from "./errors.js";

/** The prefix {@link packAny} writes, as Go's `anypb.New` does. */
export const TYPE_URL_PREFIX = "type.googleapis.com/";

/** An `Any` as it travels: the type URL and the packed message's bytes. */
export interface AnyMessage {
  readonly typeUrl: string;
  readonly value: Uint8Array;
}

/**
 * A protobuf message type as a store sees it: its full name, and how a value
 * of `T` becomes the message's bytes and back. `decode` throws on bytes that
 * are not the message, and on a message whose content `T` cannot hold.
 *
 * @example
 * ```ts
 * // A user's own key type, encoded with a ts-proto or protobuf-es message:
 * const hostKey: MessageType<string> = {
 *   typeName: "acme.HostKey",
 *   encode: (host) => HostKey.encode({ host }).finish(),
 *   decode: (bytes) => HostKey.decode(bytes).host,
 * };
 * ```
 */
export interface MessageType<T> {
  /** The message's full protobuf name, `package.Message`. */
  readonly typeName: string;
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

// A protobuf full name: dot-separated identifiers (Go: protoreflect.FullName.IsValid).
const FULL_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/**
 * The message name a type URL names, as Go's `Any.MessageName`: the text after
 * the last `/` (the whole URL without one); `""` when that is not a valid
 * protobuf full name.
 */
export function typeNameOf(typeUrl: string): string {
  const name = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
  return FULL_NAME.test(name) ? name : "";
}

/** Packs `value` as an `Any` of `type`. */
export function packAny<T>(type: MessageType<T>, value: T): AnyMessage {
  return { typeUrl: TYPE_URL_PREFIX + type.typeName, value: type.encode(value) };
}

/**
 * Unpacks `any` as `type`. Throws an `INVALID_ARGUMENT` {@link DataStoreError}
 * when the `Any` is missing, names another type, or holds bytes that do not
 * decode as `type` (Go: `UnmarshalTo`'s mismatch and parse errors).
 *
 * @param what - What the `Any` is, for the message: `"key"`, `"data"`.
 */
export function unpackAny<T>(any: AnyMessage | undefined, type: MessageType<T>, what = "value"): T {
  if (any === undefined) throw invalidArgument(`${what} is missing`);
  const name = typeNameOf(any.typeUrl);
  if (name !== type.typeName) {
    const got = any.typeUrl === "" ? "an empty type URL" : `type URL ${JSON.stringify(any.typeUrl)}`;
    throw invalidArgument(`${what} must be a ${type.typeName}, got ${got}`);
  }
  try {
    return type.decode(any.value);
  } catch (err) {
    throw invalidArgument(`${what} is not a valid ${type.typeName}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

/** A value unpacked by an {@link AnyRegistry}: its type's name and the value. */
export interface Unpacked {
  readonly typeName: string;
  readonly value: unknown;
}

/**
 * The message types a process knows by name, for unpacking an `Any` whose
 * type is not known in advance (a CLI printing what a store holds, a generic
 * store). Starts with the types given (none by default); `knownMessageTypes()`
 * returns one holding the types this SDK ships.
 */
export class AnyRegistry {
  readonly #types = new Map<string, MessageType<unknown>>();

  constructor(types: Iterable<MessageType<unknown>> = []) {
    for (const type of types) this.register(type);
  }

  /** Adds a type; throws on a second, different type with the same name. */
  register<T>(type: MessageType<T>): this {
    if (!FULL_NAME.test(type.typeName)) throw new TypeError(`not a protobuf full name: ${JSON.stringify(type.typeName)}`);
    const known = this.#types.get(type.typeName);
    if (known !== undefined && known !== type) throw new Error(`a message type named ${type.typeName} is already registered`);
    this.#types.set(type.typeName, type as MessageType<unknown>);
    return this;
  }

  /** The type with this full name, if known. */
  get(typeName: string): MessageType<unknown> | undefined {
    return this.#types.get(typeName);
  }

  /** The full names known, sorted. */
  names(): string[] {
    return [...this.#types.keys()].sort();
  }

  /** Unpacks an `Any` of any known type; throws `INVALID_ARGUMENT` for an unknown or malformed one. */
  unpack(any: AnyMessage | undefined, what = "value"): Unpacked {
    if (any === undefined) throw invalidArgument(`${what} is missing`);
    const typeName = typeNameOf(any.typeUrl);
    const type = this.#types.get(typeName);
    if (type === undefined) throw invalidArgument(`${what} has a type this process does not know: ${JSON.stringify(any.typeUrl)}`);
    return { typeName, value: unpackAny(any, type, what) };
  }
}
