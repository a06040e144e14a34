import { isIP } from "node:net";
import { OptionsError } from "../errors.js";
import { cidrMatcher, parseCidr, unambiguousAddress } from "../evaluation/operators.js";

const PREFIX = /^(?:0|[1-9]\d{0,2})$/;
type Range = NonNullable<ReturnType<typeof parseCidr>>;

/**
 * Parses one allow-list entry strictly: a dotted-quad IPv4 or an IPv6 address
 * (as `net.isIP` accepts them: no `010.0.0.1`, which ipaddr.js would read as
 * octal 8.0.0.1, no `167772161`), optionally with a decimal prefix length in
 * range. An IPv4-mapped IPv6 entry (`::ffff:10.0.0.0/104`) becomes the IPv4
 * range it denotes. `null` when the entry is not one of these.
 */
function parseEntry(entry: string): Range | null {
  const slash = entry.indexOf("/");
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return null;
  if (slash >= 0) {
    const bits = entry.slice(slash + 1);
    if (!PREFIX.test(bits) || Number(bits) > (family === 4 ? 32 : 128)) return null;
  }
  return parseCidr(unambiguousAddress(entry));
}

/**
 * Compiles client addresses and CIDR ranges (`10.0.0.1`, `10.0.0.0/8`, `::1`,
 * `2001:db8::/32`) into one test of a client address. The address is the one
 * the framework resolved (trust-proxy aware); this never looks at
 * X-Forwarded-For. IPv4-mapped IPv6 client addresses (`::ffff:10.0.0.1`, what
 * Node reports on dual-stack sockets) match IPv4 entries, and mapped entries
 * match plain IPv4 clients. A missing or unparsable address matches nothing.
 *
 * Throws `OptionsError` naming `option[index]` for an entry that is not an
 * address or range.
 */
export function compileIpMatcher(entries: readonly string[], option: string): (address: string | undefined) => boolean {
  if (!Array.isArray(entries)) throw new OptionsError(option, "must be an array of IP addresses or CIDR ranges");
  const ranges: Range[] = [];
  // Exact client spellings of single-address entries: a hit needs no parsing.
  const exact = new Set<string>();
  entries.forEach((entry: unknown, index) => {
    const name = `${option}[${index}]`;
    if (typeof entry !== "string") throw new OptionsError(name, `must be a string, got ${entry === null ? "null" : typeof entry}`);
    const text = entry.trim();
    const parsed = text === "" ? null : parseEntry(text);
    if (parsed === null) throw new OptionsError(name, `${JSON.stringify(entry)} is not an IP address or CIDR range`);
    const [range, bits] = parsed;
    if (bits < 0) {
      // parseCidr turns `::ffff:a.b.c.d/n` into IPv4 `/n - 96`; below 96 the range is wider than IPv4-mapped space.
      throw new OptionsError(name, `${JSON.stringify(entry)}: an IPv4-mapped range needs a prefix of at least /96`);
    }
    ranges.push(parsed);
    if (range.kind() === "ipv4" && bits === 32) {
      exact.add(range.toString());
      exact.add(`::ffff:${range.toString()}`);
    } else if (range.kind() === "ipv6" && bits === 128) {
      exact.add(range.toString());
    }
  });
  if (ranges.length === 0) return () => false;
  const inRanges = cidrMatcher(ranges);
  return (address) => {
    if (typeof address !== "string" || address === "") return false;
    if (exact.has(address)) return true;
    return inRanges(unambiguousAddress(address));
  };
}

