import { describe, expect, it } from "vitest";
import { OptionsError } from "../../src/errors.js";
import { compileIpMatcher } from "../../src/bypass/index.js";

type Case = [entries: string[], address: string | undefined, expected: boolean];

describe("compileIpMatcher", () => {
  const cases: Case[] = [
    // single IPv4
    [["10.0.0.1"], "10.0.0.1", true],
    [["10.0.0.1"], "10.0.0.2", false],
    [["10.0.0.1"], "::ffff:10.0.0.1", true], // dual-stack socket
    [["10.0.0.1"], "::FFFF:10.0.0.1", true],
    [["10.0.0.1"], "::ffff:a00:1", true], // the same mapped address, hex spelling
    [["10.0.0.1"], "::10.0.0.1", false], // IPv4-compatible ::a00:1, not mapped (ipaddr.js alone says mapped)
    [["10.0.0.1"], "::10.0.0.1%eth0", false],
    [["::/96"], "::10.0.0.1", true], // it is this IPv6 address
    [["::10.0.0.1"], "10.0.0.1", false], // and so is the entry
    [["::10.0.0.1"], "::a00:1", true],
    [["10.0.0.1"], "10.0.0.1, 10.0.0.1", false], // an X-Forwarded-For-like string is not an address
    [["10.0.0.1"], "", false],
    [["10.0.0.1"], undefined, false],
    [["10.0.0.1"], "garbage", false],
    [[" 10.0.0.1 "], "10.0.0.1", true],
    // /32 and /0
    [["10.0.0.1/32"], "10.0.0.1", true],
    [["10.0.0.1/32"], "10.0.0.0", false],
    [["0.0.0.0/0"], "203.0.113.9", true],
    [["0.0.0.0/0"], "::ffff:203.0.113.9", true],
    [["0.0.0.0/0"], "::1", false],
    // ranges
    [["10.0.0.0/8"], "10.255.255.255", true],
    [["10.0.0.0/8"], "10.0.0.0", true],
    [["10.0.0.0/8"], "11.0.0.0", false],
    [["10.0.0.0/8"], "9.255.255.255", false],
    [["10.0.0.0/8"], "::ffff:10.1.2.3", true],
    [["10.0.0.0/8"], "::ffff:11.1.2.3", false],
    [["192.168.1.0/24"], "192.168.1.77", true],
    [["192.168.1.0/24"], "192.168.2.77", false],
    [["192.168.1.128/25"], "192.168.1.127", false],
    [["192.168.1.128/25"], "192.168.1.128", true],
    [["10.9.9.9/8"], "10.1.1.1", true], // host bits in the entry are ignored, as in CIDR notation everywhere
    // IPv6
    [["::1"], "::1", true],
    [["::1"], "127.0.0.1", false],
    [["::1"], "::2", false],
    [["2001:db8::1"], "2001:DB8:0:0:0:0:0:1", true],
    [["2001:db8::1/128"], "2001:db8::1", true],
    [["2001:db8::1/128"], "2001:db8::2", false],
    [["2001:db8::/32"], "2001:db8:ffff:ffff::1", true],
    [["2001:db8::/32"], "2001:db9::1", false],
    [["2001:db8::/33"], "2001:db8:8000::1", false],
    [["2001:db8::/33"], "2001:db8:7fff::1", true],
    [["::/0"], "2001:db8::1", true],
    [["::/0"], "::", true],
    [["::/0"], "203.0.113.9", false], // an IPv6 range never matches an IPv4 client...
    [["::/0"], "::ffff:203.0.113.9", false], // ...even reported mapped: it is an IPv4 client
    [["fe80::/10"], "fe80::1%eth0", true], // zone index of a link-local client
    // IPv4-mapped entries are IPv4 entries
    [["::ffff:10.0.0.1"], "10.0.0.1", true],
    [["::ffff:10.0.0.0/104"], "10.20.30.40", true],
    [["::ffff:10.0.0.0/104"], "::ffff:10.20.30.40", true],
    [["::ffff:10.0.0.0/104"], "11.0.0.1", false],
    // several entries
    [["10.0.0.1", "192.168.0.0/16", "2001:db8::/32"], "192.168.44.1", true],
    [["10.0.0.1", "192.168.0.0/16", "2001:db8::/32"], "2001:db8::9", true],
    [["10.0.0.1", "192.168.0.0/16", "2001:db8::/32"], "172.16.0.1", false],
    [[], "10.0.0.1", false],
  ];

  it.each(cases)("%j, %j → %s", (entries, address, expected) => {
    expect(compileIpMatcher(entries, "allow.ips")(address)).toBe(expected);
  });

  it("never throws on odd client input", () => {
    const match = compileIpMatcher(["10.0.0.0/8", "::1"], "allow.ips");
    for (const address of [null, 42, {}, "10.0.0.0/8", "[::1]", "::1:", "10.0.0.1:8080", "x".repeat(10_000)]) {
      expect(match(address as string)).toBe(false);
    }
  });

  describe("invalid entries", () => {
    const invalid: [unknown[], string][] = [
      [["10.0.0.1", "10.0.0.300"], 'allow.ips[1]: "10.0.0.300" is not an IP address or CIDR range'],
      [["010.0.0.1"], 'allow.ips[0]: "010.0.0.1" is not an IP address or CIDR range'], // ipaddr.js alone reads octal: 8.0.0.1
      [["167772161"], 'allow.ips[0]: "167772161" is not an IP address or CIDR range'], // ...or a 32-bit number: 10.0.0.1
      [["0x0a.0.0.1"], 'allow.ips[0]: "0x0a.0.0.1" is not an IP address or CIDR range'],
      [["10.1"], 'allow.ips[0]: "10.1" is not an IP address or CIDR range'],
      [["::ffff:010.0.0.1"], 'allow.ips[0]: "::ffff:010.0.0.1" is not an IP address or CIDR range'], // ipaddr.js takes these
      [["::ffff:0x0a.0.0.0/104"], 'allow.ips[0]: "::ffff:0x0a.0.0.0/104" is not an IP address or CIDR range'],
      [["10.0.0.0/33"], 'allow.ips[0]: "10.0.0.0/33" is not an IP address or CIDR range'],
      [["10.0.0.0/08"], 'allow.ips[0]: "10.0.0.0/08" is not an IP address or CIDR range'],
      [["10.0.0.0/-1"], 'allow.ips[0]: "10.0.0.0/-1" is not an IP address or CIDR range'],
      [["10.0.0.0/"], 'allow.ips[0]: "10.0.0.0/" is not an IP address or CIDR range'],
      [["10.0.0.0/8/8"], 'allow.ips[0]: "10.0.0.0/8/8" is not an IP address or CIDR range'],
      [["/8"], 'allow.ips[0]: "/8" is not an IP address or CIDR range'],
      [["::/129"], 'allow.ips[0]: "::/129" is not an IP address or CIDR range'],
      [["2001:db8:::1"], 'allow.ips[0]: "2001:db8:::1" is not an IP address or CIDR range'],
      [["localhost"], 'allow.ips[0]: "localhost" is not an IP address or CIDR range'],
      [[""], 'allow.ips[0]: "" is not an IP address or CIDR range'],
      [["::ffff:10.0.0.0/80"], 'allow.ips[0]: "::ffff:10.0.0.0/80": an IPv4-mapped range needs a prefix of at least /96'],
      [[7], "allow.ips[0]: must be a string, got number"],
    ];
    it.each(invalid)("%j", (entries, message) => {
      let error: unknown;
      try {
        compileIpMatcher(entries as string[], "allow.ips");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(OptionsError);
      expect((error as Error).message).toBe(message);
    });

    it("refuses a list that is not an array", () => {
      expect(() => compileIpMatcher("10.0.0.1" as unknown as string[], "allow.ips")).toThrow(/^allow\.ips: must be an array/);
    });
  });
});
