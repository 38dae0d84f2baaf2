/**
 * `--config FILE`: each detector's configuration, YAML or JSON.
 *
 * ```yaml
 * detectors:
 *   TRC-1022:
 *     allowed_paths: [/usr/bin, /usr/lib]
 *   threshold:
 *     threshold: 5
 * ```
 *
 * @internal
 * @module
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { UsageError } from "./errors.js";

export type DetectorConfigs = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Reads a `--config` file (YAML, of which JSON is a part): a `detectors`
 * mapping of detector id to its settings. Throws a {@link UsageError} naming
 * the file and what is wrong.
 *
 * @internal
 */
export function loadDetectorConfigs(path: string): DetectorConfigs {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`--config: cannot read ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw new UsageError(`--config: ${path} is not valid YAML or JSON: ${(err as Error).message.split("\n")[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isRecord(doc)) throw new UsageError(`--config: ${path}: expected a mapping with a "detectors" key`);
  const unknown = Object.keys(doc).filter((k) => k !== "detectors");
  if (unknown.length > 0) {
    throw new UsageError(`--config: ${path}: unknown key ${JSON.stringify(unknown[0])}; the settings go under "detectors", by detector id`);
  }
  const detectors = doc["detectors"] ?? {};
  if (!isRecord(detectors)) throw new UsageError(`--config: ${path}: "detectors" must map detector ids to their settings`);
  const configs: Record<string, Readonly<Record<string, unknown>>> = {};
  for (const [id, settings] of Object.entries(detectors)) {
    if (settings === null) {
      configs[id] = {};
      continue;
    }
    if (!isRecord(settings)) throw new UsageError(`--config: ${path}: detectors.${id} must be a mapping of settings`);
    configs[id] = settings;
  }
  return configs;
}
