import { DataSourceClient, isDataSourceClientError } from "../grpc/index.js";
import type { ChannelCredentials } from "@grpc/grpc-js";
import { EXIT_OK, EXIT_REFUSED } from "./errors.js";
import { type CliIo, println } from "./io.js";

/** What one endpoint said. @internal */
export interface EndpointResult {
  readonly address: string;
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * Runs `action` against every address at once, one client each, and prints
 * one line per endpoint in the order given: successes on stdout, refusals on
 * stderr with the status name and details. Exit 0 only if all succeeded. @internal
 */
export async function fanOut(
  io: CliIo,
  addresses: readonly string[],
  options: { credentials: ChannelCredentials; deadlineMs: number },
  action: (client: DataSourceClient) => Promise<string>,
): Promise<number> {
  const results = await Promise.all(
    addresses.map(async (address): Promise<EndpointResult> => {
      let client: DataSourceClient | undefined;
      try {
        client = new DataSourceClient(address, { credentials: options.credentials, deadlineMs: options.deadlineMs });
        return { address, ok: true, detail: await action(client) };
      } catch (err) {
        const detail = isDataSourceClientError(err) ? `${err.codeName}: ${err.details}` : (err as Error).message;
        return { address, ok: false, detail };
      } finally {
        client?.close();
      }
    }),
  );
  for (const r of results) {
    if (r.ok) println(io.stdout, `ok      ${r.address}${r.detail === "" ? "" : `  ${r.detail}`}`);
    else println(io.stderr, `failed  ${r.address}  ${r.detail}`);
  }
  return results.every((r) => r.ok) ? EXIT_OK : EXIT_REFUSED;
}
