import { createHash } from "node:crypto";

/**
 * Versioned compare-and-set of the whole document, with the change notice
 * published in the same atomic step.
 *
 * KEYS[1] document key, KEYS[2] revision key.
 * ARGV[1] "1" when the document key must exist, "0" when it must be absent;
 * ARGV[2] the revision key's expected value ("" = key absent);
 * ARGV[3] the new revision; ARGV[4] the new document (JSON); ARGV[5] the channel;
 * ARGV[6] "1" to publish the document with the revision (`<revision>\n<document>`),
 * "0" to publish the revision alone.
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
else
  redis.call('PUBLISH', ARGV[5], ARGV[3])
end
return 1
`;

export const CAS_SHA = createHash("sha1").update(CAS_SCRIPT).digest("hex");
