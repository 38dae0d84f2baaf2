/**
 * TRC-1022 `dropped_executable`, ported from Tracee's Go detector
 * (detectors/dropped_executable.go).
 *
 * Container images normally carry every binary they need, so an ELF file
 * written inside a running container hints that someone brought tools in.
 * Tracee's `magic_write` event reports the first bytes written to a new
 * file; this detector fires when they start with the ELF magic, unless the
 * file lives in memory (`memfd:`, `/dev/shm/`, `/run/shm/`), where loaders
 * and JITs put code legitimately.
 */
import { defineDetector, type Detector, type DetectorLogger } from "tracee-ds/engine";
import { getContainerId, getData, getDataSafe, newStringValue, Severity } from "tracee-ds/events";

/** The four bytes every ELF file starts with: 0x7f "ELF". */
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;

/** Whether `bytes` begin with the ELF magic (Tracee checks nothing more). */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= ELF_MAGIC.length && ELF_MAGIC.every((b, i) => bytes[i] === b);
}

/** Where files live in memory rather than on disk (Tracee's `IsMemoryPath`). */
const MEMORY_PREFIXES = ["memfd:", "/run/shm/", "/dev/shm/"] as const;

export function isMemoryPath(pathname: string): boolean {
  return MEMORY_PREFIXES.some((prefix) => pathname.startsWith(prefix));
}

const definition = {
  id: "TRC-1022",
  requirements: {
    events: [
      {
        name: "magic_write",
        // In a container that has started: Tracee's legacy "container" origin.
        scopeFilters: ["container=started"],
      },
    ],
  },
  producedEvent: {
    name: "dropped_executable",
    description: "New executable dropped in container",
    version: "1.0.0",
    fields: [{ name: "path", type: "string" }],
  },
  threat: {
    name: "New executable dropped",
    description:
      "An Executable file was dropped in the system during runtime. Container images are usually built with all binaries needed inside. A dropped binary may indicate that an adversary infiltrated your container.",
    severity: Severity.MEDIUM,
    mitre: {
      tactic: { name: "Defense Evasion" },
      technique: { id: "T1036", name: "Masquerading" },
    },
    properties: { Category: "defense-evasion" },
  },
  autoPopulate: { threat: true, detectedFrom: true },
} as const;

/** A new TRC-1022 detector (the export below is one, for the engine to load). */
export function createDroppedExecutable(): Detector<typeof definition> {
  let logger: DetectorLogger | undefined;
  return defineDetector({
    definition,
    init(params) {
      logger = params.logger;
    },
    onEvent(event) {
      const bytes = getData(event, "bytes", "bytes");
      if (bytes === undefined) {
        logger?.debugw("magic_write without bytes; skipped");
        return undefined;
      }
      if (!isElf(bytes)) return undefined;
      const pathname = getDataSafe(event, "pathname", "str");
      if (!pathname.ok) {
        logger?.debugw("magic_write without a pathname; skipped", "error", pathname.error.message);
        return undefined;
      }
      if (isMemoryPath(pathname.value)) return undefined;
      logger?.debugw("executable dropped in a container", "path", pathname.value, "container", getContainerId(event));
      return [{ data: [newStringValue("path", pathname.value)] }];
    },
  });
}

export const droppedExecutable = createDroppedExecutable();

export default droppedExecutable;
