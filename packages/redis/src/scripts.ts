import { createHash } from "node:crypto";

/**
 * Versioned compare-and-set of the whole document, with the change notice
 * published in the same atomic step.
 *
 * KEYS[1] document key, KEYS[2] revision key.
 * ARGV[1] "1" when the document key must exist, "0" when it must be absent;
 * ARGV[2] the revision key's expected value ("" = key absent);
 * ARGV[3] the new revision; ARGV[4] the new document (JSON); ARGV[5] the channel;
 * ARGV[6] what the change notice carries after the revision: "0" nothing,
 * "1" the document (`<revision>\n<document>`), "2" ARGV[7], the changes
 * (`<revision>\nchanges <base revision>\n<changes JSON>`).
 *
 * Returns 1 when written, 0 when the expectation no longer holds.
 */
export const CAS_SCRIPT = `
local exists = tostring(redis.call('EXISTS', KEYS[1]))
local rev = redis.call('GET', KEYS[2])
if rev == false then rev = '' end
if exists ~= ARGV[1] or rev ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[3])
if ARGV[6] == '1' then
  redis.call('PUBLISH', ARGV[5], ARGV[3] .. '\\n' .. ARGV[4])
elseif ARGV[6] == '2' then
  redis.call('PUBLISH', ARGV[5], ARGV[3] .. '\\n' .. ARGV[7])
else
  redis.call('PUBLISH', ARGV[5], ARGV[3])
end
return 1
`;

export const CAS_SHA = createHash("sha1").update(CAS_SCRIPT).digest("hex");
