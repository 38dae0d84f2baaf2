/**
 * The protobuf wire primitives the two request decoders share (the
 * DataSourceService's in request-codec.ts, the DataStoreService's in
 * datastore-codec.ts): varints, skipping unknown fields (groups included),
 * and strict UTF-8. Every function reads `buf` up to a caller's `end` and
 * throws {@link Malformed} on bytes it cannot read; the decoders turn that
 * into an `INVALID_ARGUMENT` status.
 *
 * @module
 */

/** @internal Bytes that are not a valid message; `message` says why. */
export class Malformed extends Error {}

/**
 * Where a decoder is in one buffer: `pos`, which the reader moves, and
 * `end`, which a decoder may use for the end of the field it has just found.
 * Both decoders use this one class so the reader's property accesses see one
 * object shape.
 *
 * @internal
 */
export class Cursor {
  pos: number;
  end: number;

  constructor(pos = 0, end = 0) {
    this.pos = pos;
    this.end = end;
  }
}

/** @internal The wire types' names, by number, for messages. */
export const WIRE_NAMES: readonly string[] = ["varint", "fixed64", "length-delimited", "start-group", "end-group", "fixed32"];

/**
 * Reads the varint at `cursor.pos`, moving the cursor past it. Only the low
 * 53 bits matter to lengths and tags; higher ones are read and dropped.
 *
 * @internal
 */
export function varint(buf: Uint8Array, cursor: Cursor, end: number): number {
  let pos = cursor.pos;
  let result = 0;
  let shift = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new Malformed("truncated varint");
    const b = buf[pos++]!;
    if (i < 8) result += (b & 0x7f) * shift;
    shift *= 128;
    if (b < 0x80) {
      cursor.pos = pos;
      return result;
    }
  }
  throw new Malformed("varint longer than 10 bytes");
}

/**
 * How a decoder treats the groups it skips. The two decoders differ here and
 * each keeps its own rule.
 *
 * @internal
 */
export interface GroupRules {
  /** How many groups may nest; one more is "groups nested too deep". */
  readonly maxDepth: number;
  /**
   * Whether a tag inside a group above 2^32 - 1 is "field number out of
   * range"; when `false` its field number is read modulo 2^32.
   */
  readonly checkTagRange: boolean;
}

/**
 * Skips the payload of field `field` with `wireType`, whose tag the cursor
 * has just passed; `depth` is how many groups enclose it (0 for a field of
 * the message itself).
 *
 * @internal
 */
export function skipField(
  buf: Uint8Array,
  cursor: Cursor,
  end: number,
  wireType: number,
  field: number,
  depth: number,
  rules: GroupRules,
): void {
  switch (wireType) {
    case 0:
      varint(buf, cursor, end);
      return;
    case 1:
      cursor.pos += 8;
      break;
    case 5:
      cursor.pos += 4;
      break;
    case 2: {
      const len = varint(buf, cursor, end); // moves cursor.pos past the length first
      cursor.pos += len;
      break;
    }
    case 3:
      if (depth >= rules.maxDepth) throw new Malformed("groups nested too deep");
      for (;;) {
        if (cursor.pos >= end) throw new Malformed(`unterminated group (field ${field})`);
        const tag = varint(buf, cursor, end);
        if (rules.checkTagRange && tag > 0xffffffff) throw new Malformed("field number out of range");
        const inner = tag >>> 3;
        if ((tag & 7) === 4) {
          if (inner !== field) throw new Malformed(`mismatched end-group (field ${inner})`);
          return;
        }
        if (inner === 0) throw new Malformed("field number 0");
        skipField(buf, cursor, end, tag & 7, inner, depth + 1, rules);
      }
    default:
      throw new Malformed(`invalid wire type ${wireType} (field ${field})`);
  }
  if (cursor.pos > end) throw new Malformed(`truncated field ${field}`);
}

// ignoreBOM: a leading U+FEFF is part of the string (Go keeps it), not a marker to drop.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// Node's native latin1 slice, present on every Buffer but not in @types/node.
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string })
  .latin1Slice;

/**
 * The UTF-8 string in `buf[start, end)`; {@link Malformed} "`name` is not
 * valid UTF-8" when it is not.
 *
 * @internal
 */
export function readString(buf: Uint8Array, start: number, end: number, name: string): string {
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) {
      try {
        return utf8.decode(buf.subarray(start, end));
      } catch {
        throw new Malformed(`${name} is not valid UTF-8`);
      }
    }
  }
  // ASCII: latin1 decoding is exact and fastest.
  return latin1Slice.call(buf, start, end);
}
