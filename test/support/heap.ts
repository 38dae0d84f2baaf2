/**
 * The heap a child process holds, after full garbage collections: what the
 * memory tests' fixtures (run with `--expose-gc`) measure twice while their
 * work is still in progress.
 */

/** Heap used plus array buffers, in bytes, after four full GCs. Throws unless run with `--expose-gc`. */
export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --expose-gc");
  for (let i = 0; i < 4; i++) gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}
