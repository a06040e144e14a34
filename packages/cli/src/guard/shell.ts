/** Quotes one argument for a POSIX shell, only when needed. */
export function shellQuote(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_\/.,:=@%+^-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line a POSIX shell runs as exactly these arguments. */
export function commandLine(args: readonly string[]): string {
  return args.map(shellQuote).join(" ");
}
