/**
 * How error messages show paths: whole when short, and shortened to the first
 * and last segments plus the depth when a value nests deep, in every part of
 * the codec that reports depth. The error's `path` always keeps every segment.
 */
import type { JsonValue } from "type-fest";
import { describe, expect, it } from "vitest";
import {
  CodecError,
  decode,
  formatPath,
  fromGoogleValue,
  fromValue,
  fromValueBinary,
  fromValueJson,
  t,
  toValue,
  toValueBinary,
  toValueJson,
  type PathSegment,
} from "tracee-ds/codec";
import { thrown } from "../support/errors.js";
import { GoogleValue } from "./wire/helpers.js";

/** `{ a: { a: … [ [ … 1 ] ] } }`: `keys` object levels around `lists` list levels. */
function nested(keys: number, lists: number): JsonValue {
  let value: JsonValue = 1;
  for (let i = 0; i < lists; i++) value = [value];
  for (let i = 0; i < keys; i++) value = { a: value };
  return value;
}

const DEPTH_ERROR = "[0][0][0]…[0][0][0] (depth 64): value nests deeper than maxDepth 64";

describe("paths in error messages", () => {
  it("are whole up to 10 segments", () => {
    const path: PathSegment[] = ["iocs", 3, "labels", "app.kubernetes.io/name", 0, "a", "b", "c", "d", "e"];
    const err = new CodecError("bad", path);
    expect(err.message).toBe(`${formatPath(path)}: bad`);
    expect(err.message).toBe('iocs[3].labels["app.kubernetes.io/name"][0].a.b.c.d.e: bad');
  });

  it("show the first and last three segments and the depth past 10, and keep the whole path", () => {
    const path: PathSegment[] = ["a", "b", "c", 0, 1, 2, 3, 4, 5, 6, "x", 3];
    const err = new CodecError("bad", path);
    expect(err.message).toBe("a.b.c…[6].x[3] (depth 12): bad");
    expect(err.path).toEqual(path);
    expect(err.reason).toBe("bad");
    // formatPath itself always renders the whole path.
    expect(formatPath(path)).toBe("a.b.c[0][1][2][3][4][5][6].x[3]");
  });

  it("are shortened in every depth error of the wire codec", () => {
    const deep = nested(0, 65);
    const checks: Array<[string, () => unknown]> = [
      ["fromValueBinary", () => fromValueBinary(toValueBinary(deep, { maxDepth: 65 }))],
      ["toValueBinary", () => toValueBinary(deep)],
      ["fromValueJson", () => fromValueJson(deep)],
      ["toValueJson", () => toValueJson(deep)],
      ["fromValue (ts-proto)", () => fromValue(toValue(deep, { maxDepth: 65 }))],
      ["fromValue (JSON)", () => fromValue(deep)],
      ["fromGoogleValue", () => fromGoogleValue(GoogleValue.fromJavaScript(deep))],
    ];
    for (const [name, run] of checks) {
      const err = thrown(run) as CodecError;
      expect(err.message, name).toBe(DEPTH_ERROR);
      expect(err.path, name).toHaveLength(64);
    }
  });

  it("name keys and indexes at both ends", () => {
    const err = thrown(() => fromValueJson(nested(40, 30))) as CodecError;
    expect(err.message).toBe("a.a.a…[0][0][0] (depth 64): value nests deeper than maxDepth 64");
    const keysLast = thrown(() => fromValueJson([[[nested(70, 0)]]])) as CodecError;
    expect(keysLast.message).toBe("[0][0][0]…a.a.a (depth 64): value nests deeper than maxDepth 64");
  });

  it("are shortened in schema errors too", () => {
    const err = thrown(() => decode(t.json(), nested(0, 70))) as CodecError;
    expect(err.path.length).toBeGreaterThan(10);
    expect(err.message).toMatch(/^\[0\]\[0\]\[0\]…\[0\]\[0\]\[0\] \(depth \d+\): nested deeper than 64 levels$/);
  });
});
