/**
 * Shared hidden preludes for documentation snippets: the code a fragment
 * assumes from the page around it. A block names them in its marker,
 * `<!-- snippet: prelude=NAME -->` (see markdown.ts). Relative imports here
 * resolve from the repository root. Keep each one small, and prefer a named
 * block of the page itself (`name=…`) when the page shows the code.
 */
export const PRELUDES: Readonly<Record<string, string>> = {
  /**
   * `it` and `expect` for blocks written as vitest tests: `it` collects the
   * tests, and the snippet runner runs them in order after the block.
   */
  vitest: `import { expect } from "vitest";
const __snippetTests: Array<[string, () => unknown]> = [];
const it = (name: string, fn: () => unknown): void => void __snippetTests.push([name, fn]);
export { __snippetTests };`,

  /** The threshold data source ported from Go, as the pages that mention it import it. */
  "threshold-port": `import { ThresholdDataSource } from "./examples/threshold/threshold-datasource.js";`,

  /** The typed threshold data source from the example. */
  createThresholdDataSource: `import { createThresholdDataSource } from "./examples/threshold/threshold-typed.js";`,

  /** A data source called `ds`. */
  ds: `import { ThresholdDataSource } from "./examples/threshold/threshold-datasource.js";
const ds = new ThresholdDataSource();`,

  /** What docs/concepts.md's registry example assumes: a signature and somewhere to report to. */
  "signature-context": `import { DataSourceRegistry, type Finding } from "tracee-ds";
import { ThresholdDataSource } from "./examples/threshold/threshold-datasource.js";
import { ExcessiveFileOpens } from "./examples/threshold/signature.js";
const reported: Finding[] = [];
const report = (finding: Finding): void => void reported.push(finding);
const signature = new ExcessiveFileOpens();`,

  /** A key as Go's Get receives it. */
  "go-key": `import { ErrKeyNotSupported } from "tracee-ds";
const key: unknown = "threshold";`,

  fakeWritableDataSource: `import { fakeWritableDataSource } from "tracee-ds/testing";`,
  createSignatureContext: `import { createSignatureContext } from "tracee-ds/testing";`,
  checkDataSource: `import { checkDataSource } from "tracee-ds/testing";`,

  /** A list of IOCs to stream. */
  iocs: `const iocs = [{ sha256: "e3b0c442", family: "xmrig" }];`,

  /** What docs/grpc.md's security examples assume. */
  "grpc-security": `import { DataSourceRegistry } from "tracee-ds";
import { DataSourceClient, serveDataSources } from "tracee-ds/grpc";
import { Metadata } from "@grpc/grpc-js";
declare const registry: DataSourceRegistry;
declare const clientCa: Buffer, key: Buffer, cert: Buffer;
declare const serverCa: Buffer, clientKey: Buffer, clientCert: Buffer;
declare const token: string;`,

  /** What docs/grpc.md's own-server example assumes. */
  "grpc-service": `import type { DataSourceRegistry, Logger } from "tracee-ds";
import type { Authorize } from "tracee-ds/grpc";
declare const registry: DataSourceRegistry;
declare const authorize: Authorize;
declare const logger: Logger;`,

  "grpc-client": `import { DataSourceClient } from "tracee-ds/grpc";`,
};
