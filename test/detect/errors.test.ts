import { describe, expect, it } from "vitest";
import {
  DetectError,
  ErrDataNotFound,
  ErrFailedToUnmarshal,
  ErrKeyNotSupported,
  errorIs,
  isDetectError,
  wrapError,
} from "tracee-ds";

const sentinels = [
  [ErrDataNotFound, "DATA_NOT_FOUND", "requested data was not found"],
  [ErrKeyNotSupported, "KEY_NOT_SUPPORTED", "queried key is not supported"],
  [ErrFailedToUnmarshal, "FAILED_TO_UNMARSHAL", "given value could not be unmarshaled"],
] as const;

describe("detect error constants", () => {
  it.each(sentinels)("%s carries Tracee's exact text and a code", (err, code, message) => {
    expect(err.message).toBe(message);
    expect(err.code).toBe(code);
    expect(err).toBeInstanceOf(Error);
    expect(isDetectError(err)).toBe(true);
    expect(Object.isFrozen(err)).toBe(true);
  });

  it.each(sentinels)("errorIs(%s) holds for itself and through two and three levels of wrapping", (err) => {
    const once = wrapError(err, "threshold");
    const twice = wrapError(once, "my_namespace/threshold_datasource");
    const plain = new Error("write failed", { cause: twice });
    expect(errorIs(err, err)).toBe(true);
    expect(errorIs(once, err)).toBe(true);
    expect(errorIs(twice, err)).toBe(true);
    expect(errorIs(plain, err)).toBe(true);
    expect(twice.message).toBe(`my_namespace/threshold_datasource: threshold: ${err.message}`);
    expect(twice.cause).toBe(once);
    expect(twice.code).toBe(err.code);
  });

  it("does not confuse one constant with another", () => {
    const wrapped = new Error("outer", { cause: wrapError(ErrDataNotFound, "ctx") });
    expect(errorIs(wrapped, ErrKeyNotSupported)).toBe(false);
    expect(errorIs(wrapped, ErrFailedToUnmarshal)).toBe(false);
    expect(errorIs(new Error("requested data was not found"), ErrDataNotFound)).toBe(false);
  });

  it("treats a DetectError with a sentinel's code as that sentinel, as another copy of the package would make it", () => {
    // What the CJS build's ErrDataNotFound looks like to the ESM build: same brand, same code, another object.
    const fromOtherCopy = new DetectError("DATA_NOT_FOUND", "requested data was not found");
    expect(errorIs(fromOtherCopy, ErrDataNotFound)).toBe(true);
    expect(errorIs(new Error("x", { cause: fromOtherCopy }), ErrDataNotFound)).toBe(true);
  });

  it("matches non-sentinel targets by identity only", () => {
    const target = new Error("specific");
    const other = new Error("specific");
    expect(errorIs(new Error("outer", { cause: target }), target)).toBe(true);
    expect(errorIs(new Error("outer", { cause: other }), target)).toBe(false);
    const wrappedA = wrapError(ErrDataNotFound, "a");
    expect(errorIs(wrapError(ErrDataNotFound, "b"), wrappedA)).toBe(false);
  });

  it("looks inside AggregateError and survives cause cycles and non-errors", () => {
    const agg = new AggregateError([new Error("x"), wrapError(ErrKeyNotSupported, "k")], "many");
    expect(errorIs(agg, ErrKeyNotSupported)).toBe(true);
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(errorIs(a, ErrDataNotFound)).toBe(false);
    expect(errorIs(undefined, ErrDataNotFound)).toBe(false);
    expect(errorIs("requested data was not found", ErrDataNotFound)).toBe(false);
    expect(errorIs({ code: "DATA_NOT_FOUND" }, ErrDataNotFound)).toBe(false);
  });

  it("isDetectError rejects look-alikes without the brand", () => {
    expect(isDetectError({ code: "DATA_NOT_FOUND", message: "requested data was not found" })).toBe(false);
    expect(isDetectError(new Error("x"))).toBe(false);
    expect(isDetectError(null)).toBe(false);
  });
});
