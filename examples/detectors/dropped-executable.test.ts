/**
 * TRC-1022 through the engine: the JSON line Tracee printed for a real
 * dropped_executable detection (test/fixtures/events/v1beta1.ndjson, line
 * 15), reproduced from the magic_write event it names in detected_from.
 */
import { decodeEventJson, type TraceeEvent } from "tracee-ds/events";
import { DetectorHarness } from "tracee-ds/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createDroppedExecutable, isElf, isMemoryPath } from "./dropped-executable.js";

const TIMESTAMP = `"timestamp":"2023-03-01T13:09:57.900822209Z"`;
const CONTAINER = `"container":{"id":"ae95a93ce0c2f1b824ac4b205e4d1a3c8f724d663626c1ad23576efec64318de","name":"app","image":{"id":"","name":"docker.io/library/ubuntu:latest"},"started":true}`;
const WORKLOAD = (container: string) =>
  `"workload":{"process":{"unique_id":0,"host_pid":4741,"pid":441,"real_user":{"id":0},"thread":{"start_time":"2023-03-01T13:09:57.713685267Z","name":"dpkg","unique_id":0,"host_tid":4741,"tid":441}}${container},"k8s":{"pod":{"name":"app-75ff449bcd-hfwnz","uid":"0f7ad251-39da-44f7-af28-34a0e971be3e"},"namespace":{"name":"default"}}}`;
/** The first 16 bytes of an x86-64 ELF executable, base64. */
const ELF_BYTES = "f0VMRgIBAQAAAAAAAAAAAAMAPgA=";

/** A magic_write of `bytes` (base64) to `pathname`, in the fixture's container (or `container`, "" for none). */
function magicWrite(pathname: string, bytes = ELF_BYTES, container = `,${CONTAINER}`): TraceeEvent {
  return decodeEventJson(
    `{${TIMESTAMP},"id":727,"name":"magic_write","policies":{"matched":[""]},${WORKLOAD(container)},"data":[{"name":"pathname","str":${JSON.stringify(pathname)}},{"name":"bytes","bytes":"${bytes}"},{"name":"dev","u_int32":2049},{"name":"inode","u_int64":"1311223"}]}`,
  );
}

/** Tracee's line with the id this engine gives the only detector registered (Tracee's build gave it 7508). */
const EXPECTED = `{"timestamp":"2023-03-01T13:09:57.900822209Z","id":7500,"name":"dropped_executable","policies":{"matched":[""]},"workload":{"process":{"unique_id":0,"host_pid":4741,"pid":441,"real_user":{"id":0},"thread":{"start_time":"2023-03-01T13:09:57.713685267Z","name":"dpkg","unique_id":0,"host_tid":4741,"tid":441}},"container":{"id":"ae95a93ce0c2f1b824ac4b205e4d1a3c8f724d663626c1ad23576efec64318de","name":"app","image":{"id":"","name":"docker.io/library/ubuntu:latest"},"started":true},"k8s":{"pod":{"name":"app-75ff449bcd-hfwnz","uid":"0f7ad251-39da-44f7-af28-34a0e971be3e"},"namespace":{"name":"default"}}},"data":[{"name":"path","str":"/usr/bin/strace.dpkg-new"}],"threat":{"description":"An Executable file was dropped in the system during runtime. Container images are usually built with all binaries needed inside. A dropped binary may indicate that an adversary infiltrated your container.","mitre":{"tactic":{"name":"Defense Evasion"},"technique":{"id":"T1036","name":"Masquerading"}},"severity":2,"name":"New executable dropped","properties":{"Category":"defense-evasion"}},"detected_from":{"id":727,"name":"magic_write","data":[{"name":"pathname","str":"/usr/bin/strace.dpkg-new"},{"name":"bytes","bytes":"f0VMRgIBAQAAAAAAAAAAAAMAPgA="},{"name":"dev","u_int32":2049},{"name":"inode","u_int64":"1311223"}]}}`;

describe("TRC-1022 dropped_executable", () => {
  let h: DetectorHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("prints, for an ELF written in a container, the line Tracee printed", async () => {
    h = await DetectorHarness.create(createDroppedExecutable());
    expect(await h.json(magicWrite("/usr/bin/strace.dpkg-new"))).toEqual([EXPECTED]);
  });

  it("ignores ELF files written to memory", async () => {
    h = await DetectorHarness.create(createDroppedExecutable());
    const inMemory = ["memfd:jit-code", "/dev/shm/payload", "/run/shm/payload"].map((p) => magicWrite(p));
    expect(await h.json(...inMemory)).toEqual([]);
    // ...but not paths that merely look alike.
    const [line] = await h.json(magicWrite("/tmp/dev/shm/payload"));
    expect(JSON.parse(line ?? "null")).toMatchObject({ data: [{ name: "path", str: "/tmp/dev/shm/payload" }] });
  });

  it("ignores what is not ELF: a script, a short write, no bytes at all", async () => {
    h = await DetectorHarness.create(createDroppedExecutable());
    const script = magicWrite("/usr/bin/run", Buffer.from("#!/bin/sh\necho hi\n").toString("base64"));
    const short = magicWrite("/usr/bin/run", Buffer.from([0x7f, 0x45, 0x4c]).toString("base64"));
    const noBytes = decodeEventJson(
      `{${TIMESTAMP},"id":727,"name":"magic_write","policies":{"matched":[""]},${WORKLOAD(`,${CONTAINER}`)},"data":[{"name":"pathname","str":"/usr/bin/x"}]}`,
    );
    expect(await h.json(script, short, noBytes)).toEqual([]);
    expect(h.stats().participants["TRC-1022"]?.processed).toBe(3);
    expect(h.logs.map((l) => l.msg)).toContain("magic_write without bytes; skipped");
  });

  it("only in containers that have started: the host and a starting container are filtered out", async () => {
    h = await DetectorHarness.create(createDroppedExecutable());
    const host = magicWrite("/usr/bin/x", ELF_BYTES, "");
    const starting = magicWrite("/usr/bin/x", ELF_BYTES, `,${CONTAINER.replace(`"started":true`, `"started":false`)}`);
    expect(await h.json(host, starting)).toEqual([]);
    expect(h.stats().participants["TRC-1022"]?.processed ?? 0).toBe(0);
  });

  it("isElf and isMemoryPath, as Tracee's helpers", () => {
    expect(isElf(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46]))).toBe(true);
    expect(isElf(Uint8Array.from([0x7f, 0x45, 0x4c, 0x47, 0x02]))).toBe(false);
    expect(isElf(new Uint8Array())).toBe(false);
    expect(["memfd:", "/run/shm/x", "/dev/shm/x", "/dev/shmx", "memfd"].map(isMemoryPath)).toEqual([true, true, true, false, false]);
  });
});
