import { createHash } from "node:crypto";
import { Command } from "ioredis";
import type { RedisClient } from "./connection.js";

const sha = (script: string) => createHash("sha1").update(script).digest("hex");

/**
 * Versioned compare-and-set of the document and its target sets, with the
 * change notice published in the same atomic step.
 *
 * KEYS[1] document key, KEYS[2] revision key, KEYS[3] the index of the sets,
 * KEYS[4…] one set per operation.
 * ARGV[1] "1" when the document key must exist, "0" when it must be absent;
 * ARGV[2] the revision key's expected value ("" = key absent);
 * ARGV[3] the new revision; ARGV[4] the new document (JSON); ARGV[5] the channel;
 * ARGV[6] what the notice carries after `<revision>\n` ("" = the revision alone);
 * ARGV[7] "1": drop every set the index lists first (the writer does not know them);
 * then per set: the operation (`a` add and remove, `r` replace, `d` delete,
 * `s` replace by a set staged beforehand), the number added, the number
 * removed, the added, the removed (for `s`: one added, the staged set's key).
 *
 * An `a` on a set the index does not list fails the whole write: the writer's
 * picture of the sets is out of date, and it retries from a fresh read. So
 * does an `s` whose staged set is gone.
 * Returns 1 when written, 0 when the expectation no longer holds.
 */
export const WRITE_SCRIPT = `
local exists = tostring(redis.call('EXISTS', KEYS[1]))
local rev = redis.call('GET', KEYS[2])
if rev == false then rev = '' end
if exists ~= ARGV[1] or rev ~= ARGV[2] then return 0 end
local i = 8
for k = 4, #KEYS do
  if ARGV[i] == 'a' and (ARGV[7] == '1' or redis.call('SISMEMBER', KEYS[3], KEYS[k]) == 0) then return 0 end
  if ARGV[i] == 's' and redis.call('EXISTS', ARGV[i + 3]) == 0 then return 0 end
  i = i + 3 + tonumber(ARGV[i + 1]) + tonumber(ARGV[i + 2])
end
if ARGV[7] == '1' then
  for _, key in ipairs(redis.call('SMEMBERS', KEYS[3])) do redis.call('UNLINK', key) end
  redis.call('DEL', KEYS[3])
end
i = 8
for k = 4, #KEYS do
  local op = ARGV[i]; local nadd = tonumber(ARGV[i + 1]); local nrem = tonumber(ARGV[i + 2]); i = i + 3
  if op ~= 'a' then redis.call('UNLINK', KEYS[k]) end
  if op == 'd' then redis.call('SREM', KEYS[3], KEYS[k]) else redis.call('SADD', KEYS[3], KEYS[k]) end
  if op == 's' then
    redis.call('RENAME', ARGV[i], KEYS[k])
    redis.call('PERSIST', KEYS[k])
    nadd = 0; i = i + 1
  end
  for j = 0, nadd - 1, 5000 do
    redis.call('SADD', KEYS[k], unpack(ARGV, i + j, i + math.min(j + 4999, nadd - 1)))
  end
  i = i + nadd
  for j = 0, nrem - 1, 5000 do
    redis.call('SREM', KEYS[k], unpack(ARGV, i + j, i + math.min(j + 4999, nrem - 1)))
  end
  i = i + nrem
end
redis.call('SET', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[3])
if ARGV[6] == '' then
  redis.call('PUBLISH', ARGV[5], ARGV[3])
else
  redis.call('PUBLISH', ARGV[5], ARGV[3] .. '\\n' .. ARGV[6])
end
return 1
`;

export const WRITE_SHA = sha(WRITE_SCRIPT);

/**
 * Reads the document, its revision and every target set in one atomic step.
 * KEYS[1] document key, KEYS[2] revision key, KEYS[3] the index of the sets
 * (the sets share the document's hash slot); ARGV[1] a name unique to this
 * read, ARGV[2] the most members returned inline. For a larger set, its size
 * (the reader scans it, then checks the revision did not move), or with
 * ARGV[3] = "1" a copy of it as it is now, `<set>:read:<ARGV[1]>` (expiring in
 * 10 minutes), for the reader to fetch in pieces and delete. Returns
 * `[document, revision, set key, members | size | copy key, …]`.
 */
export const READ_SCRIPT = `
local out = { redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]) }
if out[1] then
  for _, key in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    out[#out + 1] = key
    local size = redis.call('SCARD', key)
    if size <= tonumber(ARGV[2]) then
      out[#out + 1] = redis.call('SMEMBERS', key)
    elseif ARGV[3] ~= '1' then
      out[#out + 1] = size
    else
      local copy = key .. ':read:' .. ARGV[1]
      redis.call('SUNIONSTORE', copy, key)
      redis.call('EXPIRE', copy, 600)
      out[#out + 1] = copy
    end
  end
end
return out
`;

export const READ_SHA = sha(READ_SCRIPT);

/**
 * Runs a script by its digest (loading it when Redis does not know it). A
 * `timeoutMs` replaces the connection's command timeout for this call.
 */
export async function runScript(redis: RedisClient, script: string, digest: string, args: readonly (string | number)[], timeoutMs?: number): Promise<unknown> {
  const send = (name: "evalsha" | "eval", first: string) => {
    const command = new Command(name, [first, ...args], { replyEncoding: "utf8" });
    if (timeoutMs !== undefined) command.setTimeout(timeoutMs);
    return redis.sendCommand(command);
  };
  try {
    return await send("evalsha", digest);
  } catch (error) {
    if (!(error instanceof Error) || !/NOSCRIPT/.test(error.message)) throw error;
    return send("eval", script);
  }
}
