import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { collectContexts, collectUsers, httpStatus, percent, retryArgument, seconds, timeArgument, wholeNumber } from "./args.js";
import { exportCommand } from "./commands/export.js";
import { guardCommand } from "./commands/guard.js";
import { concurrencyArgument } from "./guard/options.js";
import { importCommand } from "./commands/import.js";
import { offCommand, upCommand } from "./commands/off.js";
import { onCommand } from "./commands/on.js";
import { migrateCreateCommand, migrateMoveCommand, migrateStatusCommand } from "./commands/migrate.js";
import { rolloutCommand } from "./commands/rollout.js";
import { statusCommand } from "./commands/status.js";
import { Context, type CliIO, type StoreOptions } from "./context.js";
import { CliError, EXIT, exitCodeOf, messageOf } from "./errors.js";
import { DEFAULT_STORE } from "./store-url.js";

export type { CliIO } from "./context.js";

/** Set by the build from package.json (see tsup.config.ts). */
declare const __DETOUR_CLI_VERSION__: string | undefined;
const VERSION = typeof __DETOUR_CLI_VERSION__ === "string" ? __DETOUR_CLI_VERSION__ : "0.0.0-dev";

const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  usage error, bad argument, or a document that does not validate
  2  the store could not be read or written (unreachable Redis, unwritable file...)
  guard: the guarded command's own exit status (128+N when it, or detour, got signal N)`;

const STORE_HELP = `
Store:
  --store file:./detour.json (default) | redis://HOST:6379/0?prefix=NAME |
  redis+sentinel://HOST:26379,HOST:26379/MASTER[/DB] | redis+cluster://HOST:7000,HOST:7001,
  or the DETOUR_STORE environment variable. A file store must exist (the app
  creates it when it starts); only on --create and import create one.`;

function addStoreOptions(command: Command): Command {
  return command
    .option("--store <url>", `where the flags live: file:PATH, redis://HOST:PORT/DB, redis+sentinel://HOSTS/MASTER[/DB] or redis+cluster://HOSTS, each [?prefix=NAME] (env DETOUR_STORE; default ${DEFAULT_STORE})`)
    .option("--prefix <name>", "Redis key prefix (default detour; overrides ?prefix= in the URL)")
    .option("--debug", "print stack traces and store diagnostics");
}

/** What a maintenance period shows and how long it lasts: options of `on` and `down` (Laravel's `down` options included). */
function addPeriodOptions(command: Command): Command {
  return command
    .option("--message <text>", "message shown to blocked users")
    .option("--retry <seconds|time>", "Retry-After: whole seconds, or a time (RFC 3339, +2h) it counts down to", retryArgument())
    .option("--retry-after <seconds>", "Retry-After for blocked requests, in seconds", seconds(0))
    .option("--from <time>", "in force from this time (RFC 3339, now, or +30m)", timeArgument())
    .option("--until <time>", "in force until this time (RFC 3339, or +2h); must be in the future", timeArgument())
    .option("--ttl <seconds>", "turns itself off after this many seconds", seconds(1))
    .option("--status <code>", "HTTP status of blocked requests (default the app's, 503)", httpStatus)
    .option("--redirect <path>", "redirect blocked page views (GET/HEAD) to this path or URL")
    .option("--render <file>", "serve this HTML file as the maintenance page (at most 256 KiB)")
    .option("--refresh <seconds>", "send Refresh: <seconds> on blocked page views, so browsers check again", seconds(1))
    .option("--secret <secret>", "a bypass URL for this period: /<secret> sets the bypass cookie (16+ URL-safe characters; stored hashed)")
    .option("--with-secret", "like --secret, with a random secret, printed once")
    .option("--create", "make the flag even when its name is close to one that exists (a likely typo)");
}

function minutesArgument(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 15) throw new InvalidArgumentError(`expected whole minutes from 1 to 15, got ${JSON.stringify(value)}`);
  return n;
}

function modeOption(): Option {
  return new Option("--mode <mode>", "read-only or maintenance (default: maintenance; read-only with --user or --context)").choices(["read-only", "maintenance"]);
}

/** Builds the commander program; each action runs through `execute`, which records its exit code. */
function buildProgram(io: CliIO, record: (code: number) => void, debugFlag: { value: boolean }): Command {
  const program = new Command("detour");
  const execute = (task: (context: Context) => Promise<number>) => (command: Command) => {
    const options = command.optsWithGlobals() as StoreOptions;
    if (options.debug) debugFlag.value = true;
    const context = new Context(io, options);
    if (context.debug) debugFlag.value = true;
    return task(context).then(record);
  };

  program
    .description("Turn maintenance modes and operational flags on and off, and guard scripts with them.")
    .version(VERSION, "-V, --version")
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      outputError: (text, write) => write(`detour: ${text.replace(/^error: /, "")}`),
    })
    .addHelpText("after", `${STORE_HELP}\n${EXIT_CODES_HELP}\n`);
  addStoreOptions(program);

  addStoreOptions(
    program
      .command("status")
      .summary("show the flags in force and the store's health")
      .description("show every flag in force (mode, scope, users/percent, since, until, message, who) and the store's health")
      .option("--json", "machine-readable JSON: { store, flags: [...] }"),
  ).action((options: { json?: boolean }, command: Command) => execute((context) => statusCommand(context, options))(command));

  addStoreOptions(
    addPeriodOptions(
      program
        .command("on")
        .summary("turn a mode on for everyone, some users, or a percentage")
        .description("turn a mode on: for everyone, for some users (--user), or for a percentage of users (--percent)")
        .argument("<flag>", "the flag, e.g. site or billing")
        .addOption(modeOption())
        .option("-u, --user <id>", "only this user (repeat, or separate ids with commas); other users are untouched", collectUsers)
        .option("--context <kind:key>", "only this context of another kind, e.g. organization:acme (repeat, or separate with commas)", collectContexts)
        .option("--percent <n>", "put this percentage of users in the mode", percent),
    ).addHelpText("after", "\nExamples:\n  detour on site --message 'Upgrading the database' --until +30m\n  detour on billing --user u17,u42\n  detour on site --context organization:acme      # one tenant read-only\n  detour on checkout --percent 10 --mode read-only\n"),
  ).action((flag: string, options, command: Command) => execute((context) => onCommand(context, flag, options))(command));

  addStoreOptions(
    program
      .command("off")
      .description("turn a flag off, which ends it entirely (its users, percentage and settings), or take some users out of it (--user)")
      .argument("<flag>", "the flag, which must exist")
      .option("-u, --user <id>", "only remove this user (repeat, or separate ids with commas)", collectUsers)
      .option("--context <kind:key>", "only remove this context, e.g. organization:acme (repeat, or separate with commas)", collectContexts),
  ).action((flag: string, options, command: Command) => execute((context) => offCommand(context, flag, options))(command));

  addStoreOptions(
    addPeriodOptions(
      program
        .command("down")
        .summary("the whole site in maintenance (detour on site, with Laravel's options)")
        .description("put the whole site in maintenance: detour on <site flag>, with Laravel's down options")
        .option("--flag <key>", "the site flag's key, when the app sets siteFlag (default site)"),
    ).addHelpText("after", "\nExamples:\n  detour down --message 'Upgrading the database' --retry 600\n  detour down --with-secret --refresh 15\n  detour down --redirect /status\n"),
  ).action((options, command: Command) =>
    execute((context) => onCommand(context, (options as { flag?: string }).flag ?? "site", { ...options, mode: "maintenance" }))(command),
  );

  addStoreOptions(
    program
      .command("up")
      .description("bring the whole site back: detour off <site flag>")
      .option("--flag <key>", "the site flag's key, when the app sets siteFlag (default site)"),
  ).action((options, command: Command) => execute((context) => upCommand(context, options))(command));

  addStoreOptions(
    program
      .command("rollout")
      .summary("split a flag between its variations (percentages sum to 100)")
      .description("set a percentage rollout between a flag's variations; percentages must sum to 100")
      .argument("<flag>", "the flag, which must exist")
      .argument("<variation=percent...>", "e.g. old=50 dual=25 new=25")
      .addHelpText("after", "\nExample:\n  detour rollout storage-cluster old=50 dual=25 new=25\n"),
  ).action((flag: string, split: string[], _options, command: Command) => execute((context) => rolloutCommand(context, flag, split))(command));

  const migrate = program
    .command("migrate")
    .summary("move contexts through a migration flag's stages (off, dualwrite, shadow, live, rampdown, complete)")
    .description("create migration flags (LaunchDarkly's 2-, 4- and 6-stage templates), move cohorts to a stage, show who is on which stage")
    .usage("<flag> <stage> [--percent N] [--user ID...] [--context kind:key...] [--back] | create <flag> [options] | status <flag> [options]")
    .addHelpText(
      "after",
      "\nExamples:\n  detour migrate create storage-cluster --stages 6 --check-ratio 3\n  detour migrate storage-cluster dualwrite --percent 25\n  detour migrate storage-cluster live --user u17 --context tenant:acme\n  detour migrate storage-cluster off --back\n  detour migrate status storage-cluster\n",
    );
  addStoreOptions(
    migrate
      .command("create")
      .description("create a migration flag, everyone on its first stage (off)")
      .argument("<flag>", "the new flag")
      .option("--stages <n>", "2 (off, complete), 4 (off, dualwrite, rampdown, complete) or 6 (every stage; default)")
      .option("--check-ratio <n>", "check the consistency of 1 read in N (0 never; default 1, every read)", wholeNumber)
      .option("--create", "make the flag even when its name is close to one that exists (a likely typo)"),
  ).action((flag: string, options, command: Command) => execute((context) => migrateCreateCommand(context, flag, options))(command));
  addStoreOptions(
    migrate
      .command("status")
      .description("show how many contexts are on each stage, and with --figures the live figures the app instances publish")
      .argument("<flag>", "the migration flag")
      .option("--figures <url>", "the store the instances share their migration figures through (shareMigrationFigures): file:PATH or redis://...")
      .option("--minutes <n>", "with --figures: the last N minutes (1..15, default 5)", minutesArgument)
      .option("--json", "machine-readable JSON"),
  ).action((flag: string, options, command: Command) => execute((context) => migrateStatusCommand(context, flag, options))(command));
  addStoreOptions(
    migrate
      .command("move", { isDefault: true, hidden: true })
      .description("move contexts to a stage: detour migrate <flag> <stage>")
      .argument("<flag>", "the migration flag")
      .argument("<stage>", "off, dualwrite, shadow, live, rampdown or complete")
      .option("--percent <n>", "this share of everyone is on the stage or beyond (default 100)", percent)
      .option("-u, --user <id>", "only this user (repeat, or separate ids with commas)", collectUsers)
      .option("--context <kind:key>", "only this context, e.g. tenant:acme (repeat)", (value: string, previous: string[] = []) => [...previous, value])
      .option("--back", "allow moving contexts back to an earlier stage"),
  ).action((flag: string, stage: string, options, command: Command) => execute((context) => migrateMoveCommand(context, flag, stage, options))(command));

  addStoreOptions(
    program
      .command("guard")
      .summary("turn a flag on around a command; off only if it exits 0")
      .description(
        "turn a flag on, run a command, and turn the flag off only if it exits 0; on failure the flag stays on and detour exits with the command's status",
      )
      .usage("-f <flag> [-u <user> | --users-from <file|->] [options] -- <command> [args...]")
      .requiredOption("-f, --flag <flag>", "the flag to turn on around the command")
      .option("-u, --user <id>", "turn it on for this user only, and append the id as the command's last argument")
      .addOption(modeOption())
      .option("--message <text>", "message shown to blocked users while the command runs")
      .option("--retry-after <seconds>", "Retry-After for blocked requests, in seconds", seconds(0))
      .option("--users-from <file>", "run once per user id listed in FILE (one per line; - for stdin), stopping at the first failure")
      .option("--contexts-from <file>", "as --users-from, for context keys of --kind (tenants): one key per line")
      .option("--kind <kind>", "with --contexts-from: the context kind of its keys, e.g. organization")
      .option("--concurrency <n>", "with --users-from: run up to N users' commands at once (default 1)", concurrencyArgument)
      .option("--journal <file>", "with --users-from: record each user's outcome in FILE as it happens (append-only, synced), for --resume")
      .option("--resume", "with --journal: continue the run it records; users that succeeded are skipped")
      .option("--resume-from <id>", "with --users-from: start with this user (it is run again)")
      .option("--create", "make the flag even when its name is close to one that exists (a likely typo)")
      .argument("<command...>", "the command and its arguments (after --)")
      .passThroughOptions()
      .addHelpText(
        "after",
        "\nSIGINT/SIGTERM/SIGHUP are passed to every running command; their flags are then left on and detour exits 128+signal.\n\nExamples:\n  detour guard -f site -- ./migrate.sh --apply\n  detour guard -f billing -u u17 -- ./fix-invoices.sh      # runs ./fix-invoices.sh u17\n  detour guard -f billing --users-from users.txt -- ./fix-invoices.sh\n  detour guard -f site --contexts-from tenants.txt --kind organization -- ./migrate-tenant.sh\n  detour guard -f billing --users-from users.txt --concurrency 16 --journal fix.journal -- ./fix-invoices.sh\n  detour guard -f billing --users-from users.txt --concurrency 16 --journal fix.journal --resume -- ./fix-invoices.sh\n",
      ),
  ).action((command: string[], options, cmd: Command) =>
    execute((context) =>
      guardCommand(
        context,
        {
          flag: options.flag,
          user: options.user,
          mode: options.mode,
          message: options.message,
          retryAfter: options.retryAfter,
          usersFrom: options.usersFrom,
          contextsFrom: options.contextsFrom,
          kind: options.kind,
          resumeFrom: options.resumeFrom,
          concurrency: options.concurrency,
          journal: options.journal,
          resume: options.resume,
          create: options.create,
        },
        command,
      ),
    )(cmd),
  );

  addStoreOptions(
    program
      .command("export")
      .description("print the whole flag document as JSON, or write it to --out FILE")
      .option("-o, --out <file>", "write to FILE (atomically) instead of stdout"),
  ).action((options, command: Command) => execute((context) => exportCommand(context, options))(command));

  addStoreOptions(
    program
      .command("import")
      .summary("replace the flag document (or merge into it) from a validated JSON file")
      .description(
        "replace the whole flag document with FILE (- for stdin) after validating it, or with --merge upsert its flags; every problem is reported and nothing changes unless it is all valid. Shows what changes flag by flag; removing or changing a flag in force needs --yes. LaunchDarkly flag-data files import as they are.",
      )
      .argument("<file>", "a JSON flag document")
      .option("--merge", "upsert the file's flags, flagValues and segments by key; keep the store's other flags")
      .option("--yes", "import even when flags in force would be removed or changed")
      .option("--dry-run", "validate and show what would change, without changing anything"),
  ).action((file: string, options, command: Command) => execute((context) => importCommand(context, file, options))(command));

  return program;
}

/**
 * Runs `detour` with `argv` (the arguments after the program name) and
 * resolves with the exit code. Nothing here calls `process.exit`: `io`
 * defaults to the process's streams, environment, cwd and signals.
 */
export async function run(argv: readonly string[], overrides: Partial<CliIO> = {}): Promise<number> {
  const io: CliIO = {
    stdout: overrides.stdout ?? process.stdout,
    stderr: overrides.stderr ?? process.stderr,
    stdin: overrides.stdin ?? process.stdin,
    env: overrides.env ?? process.env,
    cwd: overrides.cwd ?? process.cwd(),
    signals: overrides.signals ?? process,
  };
  let code: number = EXIT.OK;
  const debug = { value: argv.includes("--debug") };
  const program = buildProgram(io, (result) => (code = result), debug);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; parse errors were already printed as one line.
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    io.stderr.write(`detour: ${messageOf(error)}\n`);
    if (error instanceof CliError) for (const line of error.details) io.stderr.write(`  ${line}\n`);
    if (debug.value && error instanceof Error && error.stack) io.stderr.write(`${stackOf(error)}\n`);
    return exitCodeOf(error);
  }
}

function stackOf(error: Error): string {
  let text = error.stack ?? String(error);
  let cause = error.cause;
  while (cause instanceof Error) {
    text += `\ncaused by: ${cause.stack ?? cause.message}`;
    cause = cause.cause;
  }
  return text;
}
