import { InvalidArgumentError } from "commander";

/** The most commands `--concurrency` runs at once: each is a process, and file descriptors and PIDs run out. */
export const MAX_CONCURRENCY = 1024;

/** `--concurrency N`: a whole number from 1 to 1024. */
export function concurrencyArgument(value: string): number {
  const text = value.trim();
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_CONCURRENCY) {
    throw new InvalidArgumentError(`expected a whole number of commands from 1 to ${MAX_CONCURRENCY}, got ${JSON.stringify(value)}`);
  }
  return Number(text);
}
