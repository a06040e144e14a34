import { OptionsError } from "../errors.js";
import { cidrMatcher, parseCidr } from "../engine/operators.js";

/**
 * Compiles addresses and CIDR ranges into one test of a client address (as
 * the framework resolves it, trust-proxy aware: this never reads
 * X-Forwarded-For). IPv4-mapped IPv6 addresses match IPv4 entries.
 */
export function compileIpMatcher(entries: readonly string[], option: string): (address: string | undefined) => boolean {
  const ranges = entries.map((entry, i) => {
    const parsed = typeof entry === "string" ? parseCidr(entry.trim()) : null;
    if (!parsed) throw new OptionsError(`${option}[${i}]`, `${JSON.stringify(entry)} is not an IP address or CIDR range`);
    return parsed;
  });
  const test = cidrMatcher(ranges);
  return (address) => typeof address === "string" && address !== "" && test(address);
}
