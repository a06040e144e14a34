import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import { normalizePath } from "./path-globs.js";
import type { FlagSecret } from "../document/types.js";
import { ArgumentError } from "../errors.js";

/*
 * A flag's own bypass secret (`detour down --secret`). Only a salted SHA-256
 * of its URL is stored, so whoever reads the document (an export, a backup,
 * the console) learns nothing that opens the door. Visiting the URL issues
 * the same cookie as the app's `allow.secret`, signed with the app's key:
 * the key never leaves the app's configuration, and the HMAC cookie design
 * is unchanged.
 */

/** What a flag secret may be: URL-safe characters, long enough not to be guessed. */
const SECRET = /^[A-Za-z0-9._~-]{16,128}$/;

function digest(salt: string, path: string): string {
  return hash("sha256", `${salt}${path}`, "base64url");
}

/** A random secret (24 bytes, base64url): what `--with-secret` generates. */
export function generateFlagSecret(): string {
  return randomBytes(24).toString("base64url");
}

/** The stored form of a secret whose URL is `/<secret>`; throws `ArgumentError` for an unusable secret. */
export function hashFlagSecret(secret: string, salt: string = randomBytes(16).toString("base64url")): FlagSecret {
  if (typeof secret !== "string" || !SECRET.test(secret)) {
    throw new ArgumentError("secret", "expected 16 to 128 URL-safe characters (letters, digits, \".\", \"_\", \"~\", \"-\")");
  }
  return { salt, sha256: digest(salt, `/${secret}`) };
}

/** Whether `path` (in normal form: query and trailing slash ignored) is the flag secret's URL; constant time in the secret. */
export function matchesFlagSecret(path: string, secret: Readonly<FlagSecret>): boolean {
  const normal = normalizePath(path);
  if (normal === null || normal === "/") return false;
  const candidate = Buffer.from(digest(secret.salt, normal), "latin1");
  const expected = Buffer.from(secret.sha256, "latin1");
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}
