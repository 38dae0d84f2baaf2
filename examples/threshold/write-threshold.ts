/**
 * `write-threshold`: the Go client from Tracee's "Writable Data Sources" docs,
 * ported. It sets the threshold of the threshold data source in a running
 * Tracee (or any DataSourceService, such as `serveDataSources`).
 *
 *   npx tsx examples/threshold/write-threshold.ts --value 10
 *   npx tsx examples/threshold/write-threshold.ts --address unix:///tmp/ds.sock --value 10
 *
 * The docs' Go version has three mistakes, fixed here and marked FIX:
 *  1. The address flag is declared as `flag.String("key", "", "key to set in the data source")`:
 *     it is named "key", so `--address` does not exist, and it has no default. Here it is
 *     `--address`, defaulting to Tracee's socket.
 *  2. `flag.Int("value", "", …)` gives an int flag a string default, which does
 *     not compile. Here `--value` is required and must be a positive integer.
 *  3. The request swaps the fields: `Id: "my_namespace", Namespace: "threshold_datasource"`,
 *     so Tracee answers NOT_FOUND. Here namespace is my_namespace and id threshold_datasource.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DataSourceClient, isDataSourceClientError, TRACEE_DEFAULT_ADDRESS } from "tracee-ds/grpc";
import { THRESHOLD_ID, THRESHOLD_NAMESPACE } from "./threshold-datasource.js";

const USAGE = `usage: write-threshold --value <positive integer> [--address ${TRACEE_DEFAULT_ADDRESS}]`;

/** Where the command writes; injectable for tests. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

const stdio: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Parses and checks the flags; returns the address and value, or an error message. */
export function parseFlags(argv: readonly string[]): { address: string; value: number } | { error: string } {
  let values: { address?: string | undefined; value?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        // FIX 1: the flag is called "address", not "key".
        address: { type: "string", default: TRACEE_DEFAULT_ADDRESS },
        // FIX 2: a required value, parsed and checked below (Go's flag.Int had a string default).
        value: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { error: `${(err as Error).message}\n${USAGE}` };
  }
  if (values.value === undefined) return { error: `--value is required\n${USAGE}` };
  if (!/^[1-9][0-9]*$/.test(values.value) || !Number.isSafeInteger(Number(values.value))) {
    return { error: `--value must be a positive integer, got ${JSON.stringify(values.value)}\n${USAGE}` };
  }
  return { address: values.address ?? TRACEE_DEFAULT_ADDRESS, value: Number(values.value) };
}

/** Runs the command; resolves to the process exit code. */
export async function main(argv: readonly string[], io: Output = stdio): Promise<number> {
  const flags = parseFlags(argv);
  if ("error" in flags) {
    io.err(flags.error);
    return 2;
  }
  const client = new DataSourceClient(flags.address, { deadlineMs: 10_000 });
  try {
    await client.write({
      // FIX 3: namespace and id in their own fields (the docs swap them).
      namespace: THRESHOLD_NAMESPACE,
      id: THRESHOLD_ID,
      key: "threshold",
      value: flags.value,
    });
    io.out(`threshold set to ${flags.value} at ${client.address}`);
    return 0;
  } catch (err) {
    if (!isDataSourceClientError(err)) throw err;
    io.err(`write failed: ${err.codeName}: ${err.details}`);
    return 1;
  } finally {
    client.close();
  }
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
