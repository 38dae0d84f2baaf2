/**
 * A detector's configuration: the values given to it (from `--config`, or
 * the engine's `addDetector` options), read with Tracee's getters and their
 * conversions (Go: `detection.DetectorConfig`).
 *
 * @module
 */
import type { DetectorConfig } from "./types.js";

const INTEGER = /^[+-]?\d+$/;

/**
 * A {@link DetectorConfig} over `data`. The getters convert as Tracee's do:
 * `getInt` truncates a float and parses a decimal string; `getString` prints
 * anything else; `getBool` takes `true`/`True`/`TRUE` (and false) strings and
 * non-zero numbers; `getFloat64` parses a numeric string. A value that does
 * not convert gives the default.
 *
 * @example
 * ```ts
 * const config = createDetectorConfig({ threshold: "5", paths: ["/tmp"] });
 * config.getInt("threshold", 10); // 5
 * ```
 */
export function createDetectorConfig(data: Readonly<Record<string, unknown>> = {}): DetectorConfig {
  const has = (key: string) => Object.prototype.hasOwnProperty.call(data, key);
  return Object.freeze({
    has,
    getInt(key: string, defaultValue: number): number {
      if (!has(key)) return defaultValue;
      const v = data[key];
      if (typeof v === "number" && Number.isFinite(v)) return Math.trunc(v);
      if (typeof v === "bigint") return Number(v);
      if (typeof v === "string" && INTEGER.test(v)) return Number.parseInt(v, 10);
      return defaultValue;
    },
    getString(key: string, defaultValue: string): string {
      if (!has(key)) return defaultValue;
      const v = data[key];
      if (typeof v === "string") return v;
      return typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
    },
    getBool(key: string, defaultValue: boolean): boolean {
      if (!has(key)) return defaultValue;
      const v = data[key];
      if (typeof v === "boolean") return v;
      if (v === "true" || v === "True" || v === "TRUE") return true;
      if (v === "false" || v === "False" || v === "FALSE") return false;
      if (typeof v === "number" || typeof v === "bigint") return v !== 0 && v !== 0n;
      return defaultValue;
    },
    getFloat64(key: string, defaultValue: number): number {
      if (!has(key)) return defaultValue;
      const v = data[key];
      if (typeof v === "number") return v;
      if (typeof v === "bigint") return Number(v);
      if (typeof v === "string" && v.trim() !== "") {
        const n = Number(v);
        if (!Number.isNaN(n)) return n;
      }
      return defaultValue;
    },
  });
}
