/**
 * {@link ReadonlyDate}: a `Date` whose setters throw, for dates inside stored
 * data. `Object.freeze` cannot stop `setTime`, so without it one reader could
 * change what every other reader of a store sees.
 *
 * @module
 */

const SETTERS = [
  "setTime",
  "setMilliseconds",
  "setUTCMilliseconds",
  "setSeconds",
  "setUTCSeconds",
  "setMinutes",
  "setUTCMinutes",
  "setHours",
  "setUTCHours",
  "setDate",
  "setUTCDate",
  "setMonth",
  "setUTCMonth",
  "setFullYear",
  "setUTCFullYear",
  "setYear",
] as const;

/** A Date that cannot be changed: every setter throws a TypeError. `instanceof Date` holds. */
export class ReadonlyDate extends Date {}

for (const setter of SETTERS) {
  Object.defineProperty(ReadonlyDate.prototype, setter, {
    value(): never {
      throw new TypeError(`a date in a store is read-only (${setter}): copy it with new Date(date) to change it`);
    },
    writable: false,
    enumerable: false,
    configurable: false,
  });
}
Object.freeze(ReadonlyDate.prototype);

/** A frozen, read-only copy of `date`. */
export function readonlyDate(date: Date): ReadonlyDate {
  return Object.freeze(new ReadonlyDate(date.getTime()));
}
