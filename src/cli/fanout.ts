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

/** What a failed call says: the status name and the server's message. @internal */
export function failureText(err: unknown): string {
  return isDataSourceClientError(err) ? `${err.codeName}: ${err.details}` : err instanceof Error ? err.message : String(err);
}

/**
 * Runs `action` against every address at once, one client each from `open`,
 * and prints one line per endpoint in the order given: successes on stdout,
 * refusals on stderr with the status name and details. Exit 0 only if all
 * succeeded. @internal
 */
export async function fanOutWith<C extends { close(): void }>(
  io: CliIo,
  addresses: readonly string[],
  open: (address: string) => C,
  action: (client: C) => Promise<string>,
): Promise<number> {
  const results = await Promise.all(
    addresses.map(async (address): Promise<EndpointResult> => {
      let client: C | undefined;
      try {
        client = open(address);
        return { address, ok: true, detail: await action(client) };
      } catch (err) {
        return { address, ok: false, detail: failureText(err) };
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

/** {@link fanOutWith} a `DataSourceClient` per address. @internal */
export function fanOut(
  io: CliIo,
  addresses: readonly string[],
  options: { credentials: ChannelCredentials; deadlineMs: number },
  action: (client: DataSourceClient) => Promise<string>,
): Promise<number> {
  return fanOutWith(io, addresses, (address) => new DataSourceClient(address, options), action);
}
