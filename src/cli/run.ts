import { eventsCommand, EVENTS_HELP } from "./commands/events.js";
import { RUN_HELP, runCommand } from "./commands/run.js";
import { serveCommand, SERVE_HELP } from "./commands/serve.js";
import { storeCommand, STORE_HELP } from "./commands/store.js";
import { writeStreamCommand, WRITE_STREAM_HELP } from "./commands/write-stream.js";
import { writeCommand, WRITE_HELP } from "./commands/write.js";
import { EXIT_REFUSED, EXIT_USAGE, UsageError } from "./errors.js";
import { type CliIo, println } from "./io.js";
import { packageVersion } from "./version.js";

export const HELP = `Usage: tracee-ds <command> [options]

Write into Tracee data sources over gRPC, serve your own, watch Tracee's events,
or run detections on them.

Commands:
  write          write one key/value (DataSourceService.Write)
  write-stream   stream NDJSON entries, all or nothing (DataSourceService.WriteStream)
  store          write, import, delete and clear datastore entries (DataStoreService)
  serve          host the data sources a module exports
  events         print Tracee's events as they arrive (gRPC, NDJSON, webhook)
  run            run TypeScript detectors and signatures on Tracee's events

Options:
  -h, --help     show help (also: tracee-ds <command> --help)
  -v, --version  print the version

Exit status: 0 ok, 1 a server refused or could not be reached (or an input failed,
or a detector cannot run), 2 usage error.`;

const COMMANDS: Record<string, { run: (args: string[], io: CliIo) => Promise<number>; help: string }> = {
  write: { run: writeCommand, help: WRITE_HELP },
  "write-stream": { run: writeStreamCommand, help: WRITE_STREAM_HELP },
  store: { run: storeCommand, help: STORE_HELP },
  serve: { run: serveCommand, help: SERVE_HELP },
  events: { run: eventsCommand, help: EVENTS_HELP },
  run: { run: runCommand, help: RUN_HELP },
};

/** Runs the command line `argv` (without node and the script) and returns the exit code. @internal */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    const target = name === "help" ? COMMANDS[rest[0] ?? ""] : undefined;
    io.stdout.write(`${target?.help ?? HELP}\n`);
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === "-v" || name === "--version") {
    println(io.stdout, packageVersion());
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    println(io.stderr, `tracee-ds: unknown command ${JSON.stringify(name)}; run tracee-ds --help`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    // parseArgs throws TypeErrors with a code for unknown or malformed flags
    const code = (err as { code?: unknown }).code;
    if (err instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))) {
      println(io.stderr, `tracee-ds ${name}: ${(err as Error).message}`);
      println(io.stderr, `run tracee-ds ${name} --help for usage`);
      return EXIT_USAGE;
    }
    println(io.stderr, `tracee-ds ${name}: ${(err as Error).message}`);
    return EXIT_REFUSED;
  }
}
