import { isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrInvalidArgument, errorIs, isDataStoreError, normalizeIP } from "tracee-ds";

function refusal(text: unknown): string {
  try {
    normalizeIP(text as string);
  } catch (err) {
    expect(isDataStoreError(err)).toBe(true);
    expect(errorIs(err, ErrInvalidArgument)).toBe(true);
    return (err as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

/** The WHATWG URL parser's IPv6 serialisation (RFC 5952 compression, lowercase): an independent reference. */
function urlIPv6(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

describe("normalizeIP", () => {
  it.each([
    ["1.2.3.4", "1.2.3.4"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8::1", "2001:db8::1"],
    ["::", "::"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    // One zero group is not compressed; of two equal runs the first is.
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"],
    ["1:0:0:2:0:0:3:4", "1::2:0:0:3:4"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    // IPv4-mapped forms are the IPv4 address.
    ["::ffff:1.2.3.4", "1.2.3.4"],
    ["::FFFF:1.2.3.4", "1.2.3.4"],
    ["::ffff:0102:0304", "1.2.3.4"],
    ["::FFFF:0102:0304", "1.2.3.4"],
    ["0:0:0:0:0:ffff:102:304", "1.2.3.4"],
    ["0000:0000:0000:0000:0000:FFFF:0A00:0001", "10.0.0.1"],
    // Other embedded IPv4 forms are plain IPv6.
    ["::1.2.3.4", "::102:304"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["::ffff:0:1.2.3.4", "::ffff:0:102:304"],
  ])("%s → %s", (input, expected) => {
    expect(normalizeIP(input)).toBe(expected);
    expect(normalizeIP(expected)).toBe(expected);
  });

  it.each([
    ["", "is not an IPv4 or IPv6 address"],
    [" 1.2.3.4", "is not an IPv4 or IPv6 address"],
    ["1.2.3.4 ", "is not an IPv4 or IPv6 address"],
    ["1.2.3.4\n", "is not an IPv4 or IPv6 address"],
    ["01.2.3.4", "is not an IPv4 or IPv6 address"],
    ["1.2.3.010", "is not an IPv4 or IPv6 address"],
    ["1.2.3", "is not an IPv4 or IPv6 address"],
    ["256.1.1.1", "is not an IPv4 or IPv6 address"],
    ["0x7f.0.0.1", "is not an IPv4 or IPv6 address"],
    ["1.2.3.4.5", "is not an IPv4 or IPv6 address"],
    ["10.0.0.0/8", "is not an IPv4 or IPv6 address"],
    ["[::1]", "is not an IPv4 or IPv6 address"],
    ["1::2::3", "is not an IPv4 or IPv6 address"],
    ["1:2:3:4:5:6:7:8:9", "is not an IPv4 or IPv6 address"],
    ["1:2:3:4:5:6:7", "is not an IPv4 or IPv6 address"],
    ["1::2:3:4:5:6:7:8", "is not an IPv4 or IPv6 address"],
    ["12345::", "is not an IPv4 or IPv6 address"],
    ["g::1", "is not an IPv4 or IPv6 address"],
    ["::ffff:1.2.3.04", "is not an IPv4 or IPv6 address"],
    ["1.2.3.4::", "is not an IPv4 or IPv6 address"],
    [":1:2:3:4:5:6:7", "is not an IPv4 or IPv6 address"],
    ["localhost", "is not an IPv4 or IPv6 address"],
    ["1".repeat(100_000), "is not an IPv4 or IPv6 address"],
    ["fe80::1%eth0", "has a zone index"],
    ["fe80::1%25eth0", "has a zone index"],
  ])("refuses %j", (input, reason) => {
    expect(refusal(input)).toContain(reason);
  });

  it.each([[undefined], [null], [16909060], [["1.2.3.4"]], [{ ip: "1.2.3.4" }]])("refuses the non-string %j", (input) => {
    expect(refusal(input)).toMatch(/^an IP address must be a string, got /);
  });

  it("accepts exactly what Node's isIP accepts, zone indexes aside", () => {
    const accepts = (text: string) => {
      try {
        normalizeIP(text);
        return true;
      } catch {
        return false;
      }
    };
    const text = fc.string({ unit: fc.constantFrom(..."0123456789.:abcdefF%".split("")), maxLength: 40 });
    const groups = fc
      .tuple(fc.array(fc.constantFrom("0", "1", "ffff", "00", "0001", "A", "1.2.3.4"), { maxLength: 9 }), fc.nat(9), fc.boolean())
      .map(([parts, at, compress]) => {
        const out: string[] = [...parts];
        if (compress) out.splice(Math.min(at, out.length), 0, "");
        return out.join(":");
      });
    fc.assert(
      fc.property(fc.oneof(text, groups), (s) => {
        expect(accepts(s)).toBe(isIP(s) !== 0 && !s.includes("%"));
      }),
      { numRuns: 5000 },
    );
  });

  // Eight groups, zeros likely, then written in one of the many equivalent ways.
  const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  const address = fc.oneof(
    fc.array(group, { minLength: 8, maxLength: 8 }),
    fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })).map(([a, b]) => [0, 0, 0, 0, 0, 0xffff, a, b]),
  );
  const spelling = fc.record({
    upper: fc.boolean(),
    pad: fc.array(fc.nat(3), { minLength: 8, maxLength: 8 }),
    compress: fc.option(fc.tuple(fc.nat(7), fc.nat(8))),
    quad: fc.boolean(),
  });
  function spell(groups: number[], how: { upper: boolean; pad: number[]; compress: [number, number] | null; quad: boolean }): string {
    let parts = groups.map((g, i) => {
      const hex = g.toString(16).padStart(Math.min(4, g.toString(16).length + (how.pad[i] ?? 0)), "0");
      return how.upper ? hex.toUpperCase() : hex;
    });
    if (how.quad) {
      const [a, b] = [groups[6] ?? 0, groups[7] ?? 0];
      parts = [...parts.slice(0, 6), `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`];
    }
    if (how.compress !== null) {
      // Compress a run of zero groups (within the hex part) if the chosen one is all zeros.
      const [start, len] = how.compress;
      const end = Math.min(start + Math.max(len, 1), how.quad ? 6 : 8);
      if (start < end && groups.slice(start, end).every((g) => g === 0)) {
        const head = parts.slice(0, start).join(":");
        const tail = parts.slice(end).join(":");
        return `${head}::${tail}`;
      }
    }
    return parts.join(":");
  }

  it("gives every spelling of an address the same text, RFC 5952's (checked against the URL parser), or the IPv4 one for a mapped address", () => {
    fc.assert(
      fc.property(address, spelling, spelling, (groups, a, b) => {
        const first = spell(groups, a);
        const second = spell(groups, b);
        const normal = normalizeIP(first);
        expect(normalizeIP(second)).toBe(normal);
        const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
        if (mapped) {
          const [x, y] = [groups[6] as number, groups[7] as number];
          expect(normal).toBe(`${x >> 8}.${x & 255}.${y >> 8}.${y & 255}`);
          expect(isIP(normal)).toBe(4);
        } else {
          expect(normal).toBe(urlIPv6(first));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("is idempotent", () => {
    const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join("."));
    const ipv6 = fc.tuple(address, spelling).map(([g, s]) => spell(g, s));
    fc.assert(
      fc.property(fc.oneof(ipv4, ipv6), (text) => {
        const once = normalizeIP(text);
        expect(normalizeIP(once)).toBe(once);
      }),
      { numRuns: 2000 },
    );
  });
});
