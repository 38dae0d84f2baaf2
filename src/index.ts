/**
 * tracee-ds: Tracee's data source contracts for TypeScript signatures.
 *
 * This entry point holds what signature code needs and never loads gRPC:
 * the contracts, the detect errors, the registry and the codec helpers used
 * inside data sources. The server and client live in `tracee-ds/grpc`.
 *
 * @packageDocumentation
 */
export * from "./detect/index.js";
