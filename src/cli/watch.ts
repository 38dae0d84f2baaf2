/**
 * `--watch`: calls back once a burst of changes to a set of files is over.
 * Watches the files' directories, not the files, so an editor that saves by
 * writing a new file and renaming it over the old one is still seen.
 *
 * @internal
 * @module
 */
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";

/** How long the files must stay quiet before `onChange` runs, in ms. */
export const WATCH_SETTLE_MS = 150;

/** A running watch: change what it watches, or stop it. @internal */
export interface FileWatch {
  /** Watches `files` from now on (the modules' imports change with their code). */
  update(files: readonly string[]): void;
  close(): void;
}

/** Watches `files`; `onChange` runs once per burst of changes, never twice at a time. @internal */
export function watchFiles(files: readonly string[], onChange: () => Promise<void>, onError: (err: Error) => void): FileWatch {
  const watchers = new Map<string, FSWatcher>();
  let names = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const fire = () => {
    timer = undefined;
    if (running !== undefined) {
      again = true;
      return;
    }
    running = onChange().finally(() => {
      running = undefined;
      if (again && !closed) {
        again = false;
        fire();
      }
    });
  };
  const changed = (dir: string, name: string | null) => {
    if (closed) return;
    if (name !== null && !names.has(`${dir}/${name}`)) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(fire, WATCH_SETTLE_MS);
  };

  const update = (next: readonly string[]) => {
    names = new Set(next.map((f) => `${dirname(f)}/${basename(f)}`));
    const dirs = new Set(next.map((f) => dirname(f)));
    for (const [dir, watcher] of watchers) {
      if (dirs.has(dir)) continue;
      watcher.close();
      watchers.delete(dir);
    }
    for (const dir of dirs) {
      if (watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => changed(dir, name === null ? null : String(name)));
        watcher.on("error", onError);
        watchers.set(dir, watcher);
      } catch (err) {
        onError(err as Error);
      }
    }
  };
  update(files);
  return {
    update,
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
