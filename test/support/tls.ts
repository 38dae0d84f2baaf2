/**
 * Self-signed certificates for TLS tests, made with the system's openssl at
 * test time (nothing secret is committed). Each certificate is its own CA.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Whether openssl can be run here; TLS suites skip (visibly) without it. */
export const opensslMissing: boolean = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return false;
  } catch {
    return true;
  }
})();

/** A P-256 key and a one-day self-signed certificate for localhost/127.0.0.1, written into `dir`. */
export function selfSigned(dir: string, name: string) {
  const keyPath = join(dir, `${name}.key`);
  const certPath = join(dir, `${name}.crt`);
  execFileSync(
    "openssl",
    [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", keyPath, "-out", certPath, "-days", "1", "-subj", `/CN=${name}`,
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-addext", "basicConstraints=critical,CA:TRUE",
    ],
    { stdio: "ignore" },
  );
  return { keyPath, certPath, key: readFileSync(keyPath), cert: readFileSync(certPath) };
}
