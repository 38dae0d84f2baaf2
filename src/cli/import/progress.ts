/**
 * The import's progress: a bar repainted on standard error when it is a
 * terminal (entries written, bytes, rate; a percentage when the total is
 * known), and the summary line printed either way.
 *
 * @internal
 * @module
 */
import type { WriteAllProgress } from "../../grpc/datastore-batch.js";

/** Least time between two paints. */
const PAINT_INTERVAL_MS = 100;
const BAR_WIDTH = 24;

/** `1536` → `1.5 KiB`. @internal */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** @internal */
export class ImportMeter {
  readonly #out: NodeJS.WritableStream & { isTTY?: boolean };
  readonly #total: number | undefined;
  readonly #started = performance.now();
  #last: WriteAllProgress = { written: 0, stored: 0, batches: 0, bytes: 0 };
  #lastPaint = Number.NEGATIVE_INFINITY;
  #painted = false;

  /** @param total - the entries to write, when known (a checked file). */
  constructor(out: NodeJS.WritableStream & { isTTY?: boolean }, total: number | undefined) {
    this.#out = out;
    this.#total = total;
  }

  /** Takes the latest totals; repaints the bar on a terminal, at most every 100 ms. */
  update(progress: WriteAllProgress): void {
    this.#last = progress;
    const now = performance.now();
    if (this.#out.isTTY !== true || now - this.#lastPaint < PAINT_INTERVAL_MS) return;
    this.#lastPaint = now;
    this.#painted = true;
    this.#out.write(`\r${this.line()}\u001b[K`);
  }

  /** The bar's text for the totals so far. */
  line(): string {
    const { written, bytes } = this.#last;
    const rate = Math.round(written / Math.max(this.elapsedSeconds(), 1e-3));
    const counts = `${written}${this.#total === undefined ? "" : `/${this.#total}`} entries  ${formatBytes(bytes)}  ${rate} entries/s`;
    if (this.#total === undefined || this.#total === 0) return counts;
    const share = Math.min(1, written / this.#total);
    const filled = Math.round(share * BAR_WIDTH);
    return `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%  ${counts}`;
  }

  /** Ends the bar's line, if one was painted: paints the final totals first. */
  finish(): void {
    if (!this.#painted) return;
    this.#out.write(`\r${this.line()}\u001b[K\n`);
    this.#painted = false;
  }

  elapsedSeconds(): number {
    return (performance.now() - this.#started) / 1000;
  }
}
