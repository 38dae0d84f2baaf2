#!/usr/bin/env node
/**
 * The `tracee-ds` command: write, stream and serve data sources, and watch
 * Tracee's events, from a shell.
 * See `tracee-ds --help` and docs/cli.md.
 */
import { run } from "./run.js";

const waitForStop = () =>
  new Promise<string>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve(signal));
  });

run(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  waitForStop,
}).then(
  (code) => {
    process.exitCode = code;
    // Nothing else should keep the process alive once the command is done.
    setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
