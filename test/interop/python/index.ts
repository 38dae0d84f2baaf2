/**
 * The Python interop kit: Tracee's datastore protos compiled to Python stubs
 * with `python3 -m grpc_tools.protoc`, a Python client that drives any
 * DataStoreService through a plan of calls, and a Python DataStoreService
 * server over in-memory dicts that reports what it received.
 *
 * Needs a python3 with `grpc` and `grpc_tools` (Debian: `python3-grpcio
 * python3-grpc-tools`; .ci/run installs them when it can). Tests check
 * {@link python} first and skip, naming the reason, when it is missing.
 * `TRACEE_DS_PYTHON` picks the interpreter; otherwise the first of `python3`
 * on PATH and `/usr/bin/python3` that has both modules.
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
/** No __pycache__ left in the repository. */
const ENV = { ...process.env, PYTHONDONTWRITEBYTECODE: "1" };
const PROTO_ROOT = join(HERE, "..", "..", "..", "proto");

/** Whether the kit can run here: the interpreter to use, or why not. */
export type PythonAvailability = { readonly ok: true; readonly python: string } | { readonly ok: false; readonly reason: string };

function detect(): PythonAvailability {
  const fromEnv = process.env["TRACEE_DS_PYTHON"];
  const candidates = fromEnv !== undefined && fromEnv !== "" ? [fromEnv] : ["python3", "/usr/bin/python3"];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ["-c", "import grpc, grpc_tools.protoc, google.protobuf"], {
      stdio: "ignore",
      timeout: 20_000,
    });
    if (probe.status === 0) return { ok: true, python: candidate };
  }
  return {
    ok: false,
    reason: `no python3 with grpc and grpc_tools (tried ${candidates.join(", ")}); install python3-grpcio python3-grpc-tools`,
  };
}

/** Probed once per test file, synchronously, so `describe.skipIf` can use it. */
export const python: PythonAvailability = detect();

/** The `describe` title suffix naming why the kit's tests are skipped, or "". */
export const skipReason = python.ok ? "" : ` (skipped: ${python.reason})`;
if (!python.ok) console.warn(`Python interop tests skipped: ${python.reason}`);

function interpreter(): string {
  if (!python.ok) throw new Error(python.reason);
  return python.python;
}

function run(file: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(interpreter(), [join(HERE, file), ...args], { maxBuffer: 64 << 20, timeout: 120_000, env: ENV }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} failed: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
    child.stdin?.end(input ?? "");
  });
}

let stubs: Promise<string> | undefined;

/**
 * Generates the Python stubs of proto/tracee/v1beta1/datastores/*.proto into
 * a temp directory (once per process; removed at exit) and returns it.
 */
export function pythonStubs(): Promise<string> {
  stubs ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "tds-pystubs-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    await run("generate.py", [PROTO_ROOT, dir]);
    return dir;
  })();
  return stubs;
}

// ---------------------------------------------------------------- client

/**
 * How the Python side builds a `google.protobuf.Any` (common.py's `pack`),
 * always with Python's `Any.Pack`, which writes `type.googleapis.com/…`.
 */
export type AnySpec =
  | { readonly ip: string }
  | { readonly reputation: Readonly<Record<string, unknown>> }
  | { readonly value: unknown }
  | { readonly raw: { readonly type_url: string; readonly value_b64?: string } };

export interface EntrySpec {
  readonly key?: AnySpec;
  readonly data?: AnySpec;
}

interface CallCommon {
  readonly timeout?: number;
  readonly metadata?: readonly (readonly [string, string])[];
}

/** One call of a plan for {@link runPythonClient}. */
export type PythonCall = CallCommon &
  (
    | { readonly method: "WriteData"; readonly store_name: string; readonly source: string; readonly entry: EntrySpec | null }
    | { readonly method: "WriteBatchData"; readonly store_name: string; readonly source: string; readonly entries: readonly EntrySpec[] }
    | { readonly method: "DeleteData"; readonly store_name: string; readonly source: string; readonly key: AnySpec | null }
    | { readonly method: "ClearSource"; readonly store_name: string; readonly source: string }
    | { readonly method: "ListSources"; readonly store_name: string }
  );

/** What one call got, as the Python client saw it. */
export interface PythonResult {
  /** `"OK"` or the status name (`"INVALID_ARGUMENT"`). */
  readonly code: string;
  readonly details: string;
  readonly written_count?: number;
  readonly deleted_count?: number;
  readonly sources?: string[];
}

/** Runs `plan` against the DataStoreService at `address` with Python's grpcio; one result per call. */
export async function runPythonClient(address: string, plan: readonly PythonCall[]): Promise<PythonResult[]> {
  const dir = await pythonStubs();
  const out = await run("datastore_client.py", [dir, address], JSON.stringify(plan));
  return JSON.parse(out) as PythonResult[];
}

// ---------------------------------------------------------------- server

/** An `Any` as the Python server received and unpacked it (common.py's `describe`). */
export interface ReceivedAny {
  readonly type_url: string;
  readonly value_hex: string;
  /** The name Python reads from the type URL (`Any.TypeName()`). */
  readonly type_name: string;
  /** The unpacked message in proto JSON form (snake_case names), unless `error`. */
  readonly message?: unknown;
  readonly error?: string;
}

/** One call the Python server received, and the status it answered. */
export interface ReceivedCall {
  readonly method: "WriteData" | "WriteBatchData" | "DeleteData" | "ClearSource" | "ListSources";
  readonly store_name: string;
  readonly source?: string;
  readonly entries?: readonly { readonly key: ReceivedAny | null; readonly data: ReceivedAny | null }[];
  readonly key?: ReceivedAny | null;
  readonly code: string;
  readonly details: string;
  /** Request metadata, without `grpc-*` and `user-agent`. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** A running Python DataStoreService from {@link startPythonDataStoreServer}. */
export interface PythonDataStoreServer {
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** Every call received so far, in order (filled as the server reports them). */
  readonly received: readonly ReceivedCall[];
  /** Resolves once at least `count` calls were reported (each is reported before it is answered). */
  waitForReceived(count: number): Promise<readonly ReceivedCall[]>;
  /** Stops the server and waits for the process to exit. */
  close(): Promise<void>;
}

/**
 * Starts the Python DataStoreService (datastore_server.py) on a free port of
 * 127.0.0.1. Stores: `ip_reputation`, `values`, and `unavailable` /
 * `unimplemented`, which fail every call with that status.
 */
export async function startPythonDataStoreServer(): Promise<PythonDataStoreServer> {
  const dir = await pythonStubs();
  const child = spawn(interpreter(), [join(HERE, "datastore_server.py"), dir], { stdio: ["pipe", "pipe", "pipe"], env: ENV });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const received: ReceivedCall[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      if (line.startsWith("PORT ")) resolve(Number(line.slice(5)));
      else if (line.startsWith("RECV ")) {
        received.push(JSON.parse(line.slice(5)) as ReceivedCall);
        for (const w of waiters.filter((w) => received.length >= w.count)) w.resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`the Python server exited (${code}) before listening:\n${stderr}`)));
    child.once("error", reject);
  });
  let closing: Promise<void> | undefined;
  return {
    address: `127.0.0.1:${port}`,
    received,
    waitForReceived(count: number) {
      if (received.length >= count) return Promise.resolve(received);
      return new Promise((resolve) => waiters.push({ count, resolve: () => resolve(received) }));
    },
    close() {
      closing ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.stdin.end(); // the server exits when its stdin closes
          const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
          await exited;
          clearTimeout(timer);
        }
      })();
      return closing;
    },
  };
}
