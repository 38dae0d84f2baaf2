/** The ported Go client, examples/threshold/write-threshold.ts, against a real server. */
import { DataSourceRegistry } from "tracee-ds";
import { describe, expect, it } from "vitest";
import { ThresholdDataSource } from "../../examples/threshold/threshold-datasource.js";
import { main, parseFlags } from "../../examples/threshold/write-threshold.js";
import { serve } from "./helpers.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l) } };
}

describe("write-threshold", () => {
  it("parses --address (default Tracee's socket) and a positive integer --value", () => {
    expect(parseFlags(["--value", "10"])).toEqual({ address: "unix:///var/run/tracee.sock", value: 10 });
    expect(parseFlags(["--address", "127.0.0.1:4466", "--value", "7"])).toEqual({ address: "127.0.0.1:4466", value: 7 });
    for (const bad of [[], ["--value", "0"], ["--value", "-3"], ["--value", "ten"], ["--value", "1.5"], ["--key", "x"]]) {
      expect(parseFlags(bad)).toHaveProperty("error");
    }
  });

  it("sets the threshold through the server, with namespace and id in the right fields", async () => {
    const ds = new ThresholdDataSource();
    const server = await serve(new DataSourceRegistry().register(ds), "unix");
    const { out, io } = capture();
    expect(await main(["--address", server.address, "--value", "12"], io)).toBe(0);
    expect(ds.get("threshold")).toEqual({ threshold: 12 });
    expect(out).toEqual([`threshold set to 12 at ${server.address}`]);
  });

  it("reports the status when the data source is missing, and exits 2 on bad flags", async () => {
    const server = await serve(new DataSourceRegistry(), "tcp");
    const { err, io } = capture();
    expect(await main(["--address", server.address, "--value", "3"], io)).toBe(1);
    expect(err[0]).toBe(
      "write failed: NOT_FOUND: requested data source does not exist (namespace: my_namespace, id: threshold_datasource)",
    );
    expect(await main(["--value", "ten"], io)).toBe(2);
  });
});
