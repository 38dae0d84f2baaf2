/**
 * Shared fixtures for the gRPC tests: a data source that records its writes,
 * servers on 127.0.0.1:0 or a unix socket in a temp dir (closed after each
 * test), and a raw grpc-js client that sends hand-made bytes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Client,
  type ClientWritableStream,
  credentials,
  type Deadline,
  Metadata,
  type sendUnaryData,
  Server,
  ServerCredentials,
  type ServerReadableStream,
  type ServiceError,
  type UntypedHandleCall,
} from "@grpc/grpc-js";
import { afterEach } from "vitest";
import type { JsonValue } from "type-fest";
import {
  DataSourceRegistry,
  ErrDataNotFound,
  type WritableDataSource,
  type WriteData,
  type WriteKey,
} from "tracee-ds";
import {
  DataSourceClient,
  type DataSourceClientError,
  type DataSourceClientOptions,
  type DataSourceServer,
  type DataSourceServiceHandle,
  type DataSourceServiceOptions,
  dataSourceService,
  isDataSourceClientError,
  serveDataSources,
  type ServeOptions,
  WRITE_PATH,
  WRITE_STREAM_PATH,
} from "tracee-ds/grpc";

export type Transport = "tcp" | "unix";
export const TRANSPORTS: readonly Transport[] = ["tcp", "unix"];

/** A writable data source that records every `write` it receives. */
export class RecordingDataSource implements WritableDataSource<WriteKey, { value: JsonValue }> {
  readonly writes: Map<WriteKey, JsonValue>[] = [];
  readonly store = new Map<WriteKey, JsonValue>();

  constructor(
    readonly ns = "test",
    readonly dsId = "recorder",
    /** Runs before a write is recorded; may throw or return a promise. */
    readonly before?: (data: WriteData) => void | Promise<void>,
  ) {}

  get(key: WriteKey): { value: JsonValue } {
    if (!this.store.has(key)) throw ErrDataNotFound;
    return { value: this.store.get(key) ?? null };
  }
  version(): number {
    return 1;
  }
  keys(): string[] {
    return ["string"];
  }
  schema(): string {
    return "{}";
  }
  namespace(): string {
    return this.ns;
  }
  id(): string {
    return this.dsId;
  }
  values(): string[] {
    return ["any"];
  }
  write(data: WriteData): void | Promise<void> {
    const commit = () => {
      this.writes.push(new Map(data));
      for (const [k, v] of data) this.store.set(k, v);
    };
    const pending = this.before?.(data);
    if (pending instanceof Promise) return pending.then(commit);
    commit();
  }
  /** Every entry written so far, in write order. */
  entryCount(): number {
    return this.writes.reduce((n, w) => n + w.size, 0);
  }
}

/** A registered data source that is not writable. */
export const readOnlyDataSource = {
  get: () => ({}),
  version: () => 1,
  keys: () => ["string"],
  schema: () => "{}",
  namespace: () => "test",
  id: () => "readonly",
};

/** Anything a test started that must be closed after it. */
type Closable = Pick<DataSourceServer, "close">;
const servers: Closable[] = [];
const clients: { close(): void }[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 0 })));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tds-"));
  dirs.push(dir);
  return dir;
}

export function addressFor(transport: Transport): string {
  return transport === "tcp" ? "127.0.0.1:0" : `unix://${join(tempDir(), "ds.sock")}`;
}

/** Starts a server (closed after the test). */
/**
 * The server the tests run: ours on this package's HTTP/2 (the default), or
 * grpc-js's — what `serverOptions` selects — when TRACEE_DS_TEST_SERVER is
 * `grpc-js` (the "server on grpc-js" project in vitest.config.ts runs the
 * server tests again that way).
 */
export function serverKind(): { serverOptions?: Record<string, never> } {
  return process.env["TRACEE_DS_TEST_SERVER"] === "grpc-js" ? { serverOptions: {} } : {};
}

export async function serve(
  registry: DataSourceRegistry,
  transport: Transport,
  options: Omit<ServeOptions, "address"> & { address?: string } = {},
): Promise<DataSourceServer> {
  const server = await serveDataSources(registry, { address: addressFor(transport), ...serverKind(), ...options });
  servers.push(server);
  return server;
}

/** Closes `server` after the test. */
export function trackServer<T extends Closable>(server: T): T {
  servers.push(server);
  return server;
}

/** Closes `client` after the test. */
export function trackClient<T extends { close(): void }>(client: T): T {
  clients.push(client);
  return client;
}

/** A client for `server` (closed after the test). */
export function clientFor(server: { address: string }, options?: DataSourceClientOptions): DataSourceClient {
  const client = new DataSourceClient(server.address, options);
  clients.push(client);
  return client;
}

/** How the service settled one `WriteStream` call. */
export type StreamSettlement =
  /** It replied with this status (0 is OK). */
  | { readonly replied: number }
  /** It saw the client go (cancel, deadline) before replying, and dropped the stream. */
  | "dropped";

/** A `WriteStream` call as the service sees it. */
export interface ObservedStream {
  /** Resolves once the service has settled the call, either way. */
  readonly settled: Promise<StreamSettlement>;
  /** Resolves once the service has handled `n` request messages of the call. */
  received(n: number): Promise<void>;
}

/**
 * Runs {@link dataSourceService} on a grpc.Server of its own (closed after the
 * test), watching the service's `WriteStream` calls from the server side:
 * `firstStream` resolves when the first one starts.
 */
export async function serveObserved(
  registry: DataSourceRegistry,
  transport: Transport,
  options: DataSourceServiceOptions = {},
): Promise<{ address: string; service: DataSourceServiceHandle; firstStream: Promise<ObservedStream> }> {
  const service = dataSourceService(registry, options);
  const first = deferred<ObservedStream>();
  const writeStream = service.implementation["WriteStream"] as (
    call: ServerReadableStream<unknown, Buffer>,
    callback: sendUnaryData<Buffer>,
  ) => void;
  const observedWriteStream = (call: ServerReadableStream<unknown, Buffer>, callback: sendUnaryData<Buffer>) => {
    const settled = deferred<StreamSettlement>();
    writeStream(call, (err, value) => {
      settled.resolve({ replied: err?.code ?? 0 });
      callback(err, value);
    });
    // Registered after the service's own listeners, so these run after them.
    call.on("cancelled", () => settled.resolve("dropped"));
    let count = 0;
    const waiting: { n: number; resolve: () => void }[] = [];
    call.on("data", () => {
      count++;
      for (const w of waiting.filter((w) => w.n <= count)) w.resolve();
    });
    first.resolve({
      settled: settled.promise,
      received: (n) =>
        count >= n ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ n, resolve })),
    });
  };
  const server = new Server();
  server.addService(service.definition, {
    ...service.implementation,
    WriteStream: observedWriteStream as UntypedHandleCall,
  });
  const requested = addressFor(transport);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(requested, ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const address = transport === "tcp" ? `127.0.0.1:${port}` : requested;
  servers.push({
    close: async () => {
      server.forceShutdown();
      await service.idle();
    },
  });
  return { address, service, firstStream: first.promise };
}

/** A registry with a recording data source at test/recorder and a read-only one at test/readonly. */
export function fixture(before?: (data: WriteData) => void | Promise<void>) {
  const ds = new RecordingDataSource("test", "recorder", before);
  const registry = new DataSourceRegistry().register(ds).register(readOnlyDataSource);
  return { ds, registry };
}

const identity = (b: Buffer): Buffer => b;

/** The outcome of a raw call: OK, or the status code and details. */
export interface RawOutcome {
  readonly code: number;
  readonly details: string;
}

/** A grpc-js client that sends pre-made request bytes, bypassing our encoder. */
export class RawClient {
  readonly client: Client;
  constructor(address: string) {
    // A connection of its own: grpc-js otherwise shares one among clients of one address.
    this.client = new Client(address, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
    clients.push(this.client);
  }

  unary(bytes: Uint8Array): Promise<RawOutcome> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(WRITE_PATH, identity, identity, Buffer.from(bytes), new Metadata(), {}, (err) =>
        resolve(outcome(err)),
      );
    });
  }

  stream(messages: readonly Uint8Array[]): Promise<RawOutcome> {
    return new Promise((resolve) => {
      const call = this.client.makeClientStreamRequest(WRITE_STREAM_PATH, identity, identity, new Metadata(), {}, (err) =>
        resolve(outcome(err)),
      );
      for (const m of messages) call.write(Buffer.from(m));
      call.end();
    });
  }

  /**
   * Opens a `WriteStream` and leaves it open: write, end or cancel `call` by
   * hand; `outcome` settles when the call ends. No abort marker is ever sent,
   * unlike {@link DataSourceClient}. `deadline` is grpc-js's own (the client
   * cancels the call when it passes, the server learns it too);
   * `serverTimeoutMs` is sent only as the `grpc-timeout` header, so only the
   * server enforces it.
   */
  open(options: { deadline?: Deadline; serverTimeoutMs?: number } = {}): {
    call: ClientWritableStream<Buffer>;
    outcome: Promise<RawOutcome>;
  } {
    const metadata = new Metadata();
    if (options.serverTimeoutMs !== undefined) metadata.set("grpc-timeout", `${options.serverTimeoutMs}m`);
    const callOptions = options.deadline === undefined ? {} : { deadline: options.deadline };
    let call!: ClientWritableStream<Buffer>;
    const settled = new Promise<RawOutcome>((resolve) => {
      call = this.client.makeClientStreamRequest(WRITE_STREAM_PATH, identity, identity, metadata, callOptions, (err) =>
        resolve(outcome(err)),
      );
    });
    return { call, outcome: settled };
  }
}

/** Writes `bytes` to `call`; resolves once grpc-js has handed them to the transport. */
export function sendFrame(call: ClientWritableStream<Buffer>, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => call.write(Buffer.from(bytes), (err?: Error | null) => (err ? reject(err) : resolve())));
}

/** The rejection of `promise` as a DataSourceClientError (fails if it resolves or rejects with anything else). */
export async function rejection(promise: Promise<unknown>): Promise<DataSourceClientError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isDataSourceClientError(err)) throw new Error(`expected a DataSourceClientError, got ${String(err)}`);
  return err;
}

function outcome(err: ServiceError | null): RawOutcome {
  return err === null ? { code: 0, details: "" } : { code: err.code, details: err.details };
}

// ---- hand encoding of protobuf, for raw requests

export function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A length-delimited field. */
export function ld(field: number, payload: Uint8Array | string): Uint8Array {
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  return concat(Uint8Array.from([...varint((field << 3) | 2), ...varint(bytes.length)]), bytes);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** `google.protobuf.Value{string_value}` bytes. */
export function stringValue(s: string): Uint8Array {
  return ld(3, s);
}

/** `google.protobuf.Value{number_value}` bytes. */
export function numberValue(n: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = 0x11;
  new DataView(out.buffer).setFloat64(1, n, true);
  return out;
}

/** A WriteDataSourceRequest from parts; omit a field by passing undefined. */
export function request(parts: {
  id?: string;
  namespace?: string;
  key?: Uint8Array;
  value?: Uint8Array;
}): Uint8Array {
  const fields: Uint8Array[] = [];
  if (parts.id !== undefined) fields.push(ld(1, parts.id));
  if (parts.namespace !== undefined) fields.push(ld(2, parts.namespace));
  if (parts.key !== undefined) fields.push(ld(3, parts.key));
  if (parts.value !== undefined) fields.push(ld(4, parts.value));
  return concat(...fields);
}

/** Resolves after `n` turns of the event loop. */
export async function ticks(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** A promise with its resolve function outside. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
