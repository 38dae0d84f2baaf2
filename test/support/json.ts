/**
 * Whether a `__proto__` own key occurs anywhere in `x`. fast-check generates
 * such keys now and then; google-protobuf drops them and ts-proto turns them
 * into prototypes, so properties that compare with those libraries skip them
 * (the hostile-input tests cover the key directly).
 */
export function hasProtoKey(x: unknown): boolean {
  if (typeof x !== "object" || x === null) return false;
  if (Array.isArray(x)) return x.some(hasProtoKey);
  return Object.keys(x).some((k) => k === "__proto__" || hasProtoKey((x as Record<string, unknown>)[k]));
}
