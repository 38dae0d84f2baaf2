/**
 * Loading `--detectors` modules: ESM, CJS or TypeScript (through tsx's
 * `tsImport`, which also gives every load a fresh copy of the module graph,
 * so `--watch` sees edits to the files a module imports too).
 *
 * A module contributes every detector, legacy signature, data source and
 * writable datastore it exports: as named exports, the default export, or arrays of them
 * (`export const detectors = [...]`), each counted once.
 *
 * @internal
 * @module
 */
import { readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { tsImport } from "tsx/esm/api";
import { type DataSource, isDataSource } from "../detect/data-source.js";
import type { Signature } from "../detect/signature.js";
import { isWritableStore, type WritableStore } from "../datastores/store.js";
import type { Detector } from "../engine/types.js";
import { UsageError } from "./errors.js";

/** What the `--detectors` modules export, together. @internal */
export interface DetectionModules {
  readonly detectors: readonly Detector[];
  readonly signatures: readonly Signature[];
  readonly dataSources: readonly DataSource[];
  /** Writable datastores (`isWritableStore`), for the engine's `dataStores`. */
  readonly dataStores: readonly WritableStore[];
  /** Every local file the modules imported (outside node_modules): what `--watch` watches. */
  readonly files: readonly string[];
}

const MODULE_EXTENSIONS = new Set([".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"]);

/** Whether `name` in a `--detectors` directory is a module to load (not a test, not a declaration). */
function isModuleFile(name: string): boolean {
  if (!MODULE_EXTENSIONS.has(extname(name))) return false;
  return !/\.d\.[cm]?ts$/.test(name) && !/\.(test|spec)\.[cm]?[jt]s$/.test(name);
}

/**
 * The module files `--detectors PATH` names: the file; a directory's index
 * module (`index.ts`, `index.js`, …), which then speaks for the directory;
 * or else every module file of the directory, in name order.
 *
 * @internal
 */
export function moduleFiles(path: string): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    throw new UsageError(`--detectors: ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (err as Error).message}`);
  }
  if (!stat.isDirectory()) return [path];
  const names = readdirSync(path).filter(isModuleFile).sort();
  const index = names.find((name) => /^index\.[cm]?[jt]s$/.test(name));
  // An index re-exports its siblings: loading them too would register each detector twice.
  const files = (index === undefined ? names : [index]).map((name) => join(path, name));
  if (files.length === 0) throw new UsageError(`--detectors: ${path} holds no .ts, .mts, .cts, .js, .mjs or .cjs module`);
  return files;
}

export const isDetector = (value: unknown): value is Detector =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Detector).onEvent === "function" &&
  typeof (value as Detector).definition === "object" &&
  (value as Detector).definition !== null;

export const isSignature = (value: unknown): value is Signature =>
  typeof value === "object" &&
  value !== null &&
  ["getMetadata", "getSelectedEvents", "init", "onEvent", "onSignal"].every(
    (method) => typeof (value as Record<string, unknown>)[method] === "function",
  );

/** Everything a module namespace offers: its exports, and a CJS module's `module.exports` properties. */
function exportedValues(namespace: Record<string, unknown>): unknown[] {
  const values: unknown[] = [];
  for (const [name, value] of Object.entries(namespace)) {
    values.push(value);
    // A CJS module (or a TS file compiled as CJS) arrives as `default` = module.exports.
    if (name === "default" && typeof value === "object" && value !== null && !Array.isArray(value) && !isDetector(value) && !isSignature(value) && !isDataSource(value) && !isWritableStore(value)) {
      values.push(...Object.values(value as Record<string, unknown>));
    }
  }
  return values;
}

/** Local files cached by CommonJS for `files`: dropped so the next load reads them again. */
function forgetCommonJs(files: ReadonlySet<string>): void {
  const cache = createRequire(import.meta.url).cache;
  for (const key of Object.keys(cache)) {
    const path = key.split("?")[0] ?? key;
    if (files.has(path)) delete cache[key];
  }
}

/**
 * Loads every `--detectors` path (files, or directories of modules) afresh
 * and collects what they export. Throws a {@link UsageError} naming the file
 * for a module that fails to load or exports nothing the engine can run.
 *
 * @internal
 */
export async function loadDetectionModules(paths: readonly string[], cwd: string, previous?: DetectionModules): Promise<DetectionModules> {
  if (previous !== undefined) forgetCommonJs(new Set(previous.files));
  const detectors = new Set<Detector>();
  const signatures = new Set<Signature>();
  const dataSources = new Set<DataSource>();
  const dataStores = new Set<WritableStore>();
  const files = new Set<string>();
  for (const path of paths) {
    for (const file of moduleFiles(resolve(cwd, path))) {
      files.add(file);
      let namespace: Record<string, unknown>;
      try {
        namespace = (await tsImport(pathToFileURL(file).href, {
          parentURL: import.meta.url,
          onImport: (url: string) => {
            if (!url.startsWith("file:")) return;
            const imported = fileURLToPath(url.split("?")[0] ?? url);
            if (!imported.includes("/node_modules/")) files.add(imported);
          },
        })) as Record<string, unknown>;
      } catch (err) {
        throw new UsageError(`--detectors: cannot load ${file}: ${(err as Error).message}`, { cause: err });
      }
      let found = 0;
      for (const value of exportedValues(namespace)) {
        for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
          if (isDetector(item)) detectors.add(item);
          else if (isSignature(item)) signatures.add(item);
          else if (isDataSource(item)) dataSources.add(item);
          else if (isWritableStore(item)) dataStores.add(item);
          else continue;
          found++;
        }
      }
      if (found === 0) {
        throw new UsageError(
          `--detectors: ${file} exports no detector, signature or data source, nor a datastore (export them by name, as the default export, or in an array such as \`export const detectors = [...]\`)`,
        );
      }
    }
  }
  return { detectors: [...detectors], signatures: [...signatures], dataSources: [...dataSources], dataStores: [...dataStores], files: [...files] };
}


