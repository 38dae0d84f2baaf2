/**
 * Running the built `tracee-ds` command (dist/cli.js) as a shell would, for
 * the CLI tests: its output so far, waiting for some, and its end.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const bin = join(root, "dist/cli.js");

/** Throws unless dist/cli.js was built. */
export function requireBuiltCli(): void {
  if (!existsSync(bin)) throw new Error("dist/cli.js is missing: run `npm run build` first (`npm test` does)");
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running command: its output so far, a way to wait for some, its end. */
export interface RunningCli {
  readonly child: ChildProcessWithoutNullStreams;
  readonly out: { stdout: string; stderr: string };
  /** Resolves once the stream's text so far matches (from `from`, default 0); rejects if the command exits first. */
  waitFor(what: "stdout" | "stderr", pattern: RegExp, from?: number): Promise<RegExpExecArray>;
  /** Resolves once `predicate` holds, checked after every output; rejects if the command exits first. */
  until(predicate: () => boolean): Promise<void>;
  readonly done: Promise<CliResult>;
}

const children: ChildProcessWithoutNullStreams[] = [];

/** Starts `tracee-ds ...args` in `cwd` (default: the project), with `input` on stdin if given (then closed). */
export function startCli(args: readonly string[], options: { input?: string; cwd?: string } = {}): RunningCli {
  const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd ?? root, stdio: "pipe" });
  children.push(child);
  const out = { stdout: "", stderr: "" };
  const waiters: (() => void)[] = [];
  const changed = () => waiters.splice(0).forEach((w) => w());
  child.stdout.on("data", (d: Buffer) => {
    out.stdout += d.toString();
    changed();
  });
  child.stderr.on("data", (d: Buffer) => {
    out.stderr += d.toString();
    changed();
  });
  const done = new Promise<CliResult>((ok, fail) => {
    child.on("error", fail);
    child.on("close", (code) => {
      changed();
      ok({ code, ...out });
    });
  });
  if (options.input !== undefined) child.stdin.end(options.input);
  const until = <T>(test: () => T | undefined, what: string): Promise<T> =>
    new Promise((ok, fail) => {
      const check = () => {
        const result = test();
        if (result !== undefined) return ok(result);
        if (child.exitCode !== null || child.signalCode !== null) {
          return fail(new Error(`exited (${child.exitCode}) before ${what}:\n${out.stderr}`));
        }
        waiters.push(check);
      };
      check();
    });
  return {
    child,
    out,
    done,
    waitFor: (what, pattern, from = 0) => until(() => pattern.exec(out[what].slice(from)) ?? undefined, `${what} matched ${pattern}`),
    until: (predicate) => until(() => (predicate() ? true : undefined), "the condition held").then(() => undefined),
  };
}

/** Kills every command still running (for afterEach). */
export function killCliChildren(): void {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}
