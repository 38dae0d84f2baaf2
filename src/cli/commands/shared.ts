import { parseAddress, TRACEE_DEFAULT_ADDRESS } from "../../grpc/address.js";
import { parseDuration } from "../duration.js";
import { UsageError } from "../errors.js";
import { TLS_OPTIONS } from "../tls.js";

/** Options shared by write and write-stream. @internal */
export const CLIENT_OPTIONS = {
  address: { type: "string", multiple: true },
  namespace: { type: "string" },
  id: { type: "string" },
  deadline: { type: "string" },
  help: { type: "boolean", short: "h" },
  ...TLS_OPTIONS,
} as const;

export const DEFAULT_DEADLINE_MS = 30_000;

/** Reads the flags every client command needs. @internal */
export function clientFlags(values: {
  address?: string[] | undefined;
  namespace?: string | undefined;
  id?: string | undefined;
  deadline?: string | undefined;
}): { addresses: string[]; namespace: string; id: string; deadlineMs: number } {
  const namespace = required("namespace", values.namespace);
  const id = required("id", values.id);
  const addresses =
    values.address === undefined || values.address.length === 0 ? [TRACEE_DEFAULT_ADDRESS] : values.address.map(checkAddress);
  const deadlineMs = values.deadline === undefined ? DEFAULT_DEADLINE_MS : parseDuration("deadline", values.deadline);
  return { addresses, namespace, id, deadlineMs };
}

export function required(flag: string, value: string | undefined): string {
  if (value === undefined || value === "") throw new UsageError(`--${flag} is required`);
  return value;
}

/** Returns `address` if it is `unix:///path` or `host:port`; a UsageError otherwise. @internal */
export function checkAddress(address: string): string {
  try {
    parseAddress(address);
  } catch (err) {
    throw new UsageError(`--address: ${(err as Error).message}`);
  }
  return address;
}

/** A whole number >= 1 from `--flag`, or `fallback` when the flag is not given. @internal */
export function positiveInteger(flag: string, text: string | undefined, fallback: number): number;
export function positiveInteger(flag: string, text: string | undefined): number | undefined;
export function positiveInteger(flag: string, text: string | undefined, fallback?: number): number | undefined {
  if (text === undefined) return fallback;
  const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${flag}: expected a whole number >= 1, got ${JSON.stringify(text)}`);
  return n;
}

/** One of `choices` from `--flag`, or `fallback` when the flag is not given. @internal */
export function oneOf<T extends string>(flag: string, text: string | undefined, choices: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if ((choices as readonly string[]).includes(text)) return text as T;
  const list = choices.length === 2 ? choices.join(" or ") : `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}`;
  throw new UsageError(`--${flag}: expected ${list}, got ${JSON.stringify(text)}`);
}
