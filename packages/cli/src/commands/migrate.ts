import { evaluate, type Flag, type FlagDocument } from "@detour/core";
import { fleetSummary, MIGRATION_STAGES, type MigrationStage, type MigrationSummary } from "@detour/migrate";
import type { Context } from "../context.js";
import { StoreError, UsageError, messageOf } from "../errors.js";
import { checkNewFlag, hasFlag, requireFlag } from "../flags.js";
import { fallthroughOf, movedBack, moveShare, percentages, slotsOf } from "../migrate/cohort.js";
import { migrationFlag, stagesOf, TEMPLATES } from "../migrate/templates.js";
import { parseContextRef, targetContexts, targetedCounts, type ContextRef } from "../migrate/targets.js";
import { openStore, parseStoreUrl } from "../store-url.js";

const AUDIT_LIMIT = 1000;

function audit(doc: FlagDocument, actor: string, action: string, flag: string, details: Record<string, unknown>): void {
  const clean = Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined)) as Record<string, never>;
  doc.audit = [{ at: new Date().toISOString(), actor, action, flag, details: clean }, ...(doc.audit ?? [])].slice(0, AUDIT_LIMIT);
}

export interface CreateOptions {
  stages?: string;
  checkRatio?: number;
  create?: boolean;
}

/** `detour migrate create <flag> [--stages 2|4|6] [--check-ratio N]`: a migration flag from LaunchDarkly's templates, everyone on `off`. */
export async function migrateCreateCommand(context: Context, key: string, options: CreateOptions): Promise<number> {
  const count = options.stages ?? "6";
  const stages = TEMPLATES[count as keyof typeof TEMPLATES];
  if (!stages) throw new UsageError(`migrate create: --stages must be 2, 4 or 6, got ${JSON.stringify(count)}`);
  await context.write(async (detour) => {
    checkNewFlag(detour.document(), key, options.create);
    await detour.store.write((doc) => {
      if (hasFlag(doc, key)) throw new UsageError(`migrate create: "${key}" already exists; move its cohorts with detour migrate ${key} <stage>`);
      (doc.flags ??= {})[key] = migrationFlag(key, stages, options.checkRatio);
      audit(doc, context.actor, "migrate-create", key, { stages: [...stages], checkRatio: options.checkRatio });
    });
  });
  context.print(`created migration flag "${key}": ${stages.join(" → ")}; everyone is on ${stages[0]}${options.checkRatio !== undefined ? `; reads checked 1 in ${options.checkRatio}` : ""}`);
  return 0;
}

export interface MoveOptions {
  percent?: number;
  user?: string[];
  context?: string[];
  back?: boolean;
}

function stageName(stage: string, stages: readonly MigrationStage[], key: string): number {
  const index = stages.indexOf(stage as MigrationStage);
  if (index < 0) {
    const known = MIGRATION_STAGES.includes(stage as MigrationStage);
    throw new UsageError(`migrate: ${known ? `"${key}" has no stage "${stage}"` : `"${stage}" is not a stage`}; its stages are ${stages.join(", ")}`);
  }
  return index;
}

/**
 * `detour migrate <flag> <stage> [--percent N] [--user ID...] [--context kind:key...] [--back]`:
 * moves contexts to a stage. Without --user/--context, a share of everyone
 * (--percent, default 100) is at the stage or beyond; with them, those
 * contexts are targeted at it. Contexts only move forward unless --back.
 */
export async function migrateMoveCommand(context: Context, key: string, stage: string, options: MoveOptions): Promise<number> {
  let refs: ContextRef[];
  try {
    refs = [...(options.user ?? []).map((id) => ({ kind: "user", key: id })), ...(options.context ?? []).map(parseContextRef)];
  } catch (error) {
    throw new UsageError(`migrate: --context: ${(error as Error).message}`);
  }
  if (refs.length > 0 && options.percent !== undefined) throw new UsageError("migrate: give --percent or --user/--context, not both");
  const line = await context.write(async (detour) => {
    let said = "";
    await detour.store.write((doc) => {
      const current = requireFlag(doc, key, "migrate");
      const stages = stagesOf(current, "migrate");
      const target = stageName(stage, stages, key);
      const flag = structuredClone(current) as Flag;
      flag.on = true;
      if (refs.length > 0) {
        const behind = refs.filter((ref) => {
          const now = evaluate(current as Flag, { kind: ref.kind, key: ref.key }, doc).variationIndex ?? 0;
          return now > target;
        });
        if (behind.length > 0 && !options.back) {
          throw new UsageError(`migrate: ${behind.map((r) => `${r.kind}:${r.key}`).join(", ")} ${behind.length === 1 ? "is" : "are"} past ${stage} already; moving back needs --back`);
        }
        targetContexts(flag, refs, target);
        said = `${refs.map((r) => (r.kind === "user" ? r.key : `${r.kind}:${r.key}`)).join(", ")} now on ${stage} in "${key}"`;
      } else {
        const share = Math.round((options.percent ?? 100) * 1000);
        if (target === 0 && share < 100_000 && options.back) throw new UsageError(`migrate: ${stage} is the first stage: moving back to it takes everyone (no --percent)`);
        const before = current.on ? slotsOf(current.fallthrough, stages.length) : [{ variation: current.offVariation ?? 0, weight: 100_000 }];
        const after = moveShare(before, stages.length, target, share, options.back === true);
        const back = movedBack(before, after);
        if (back > 0 && !options.back) {
          throw new UsageError(`migrate: this would move ${back / 1000}% of contexts back to an earlier stage; pass --back to do so`);
        }
        flag.fallthrough = fallthroughOf(after, current.fallthrough);
        said = `"${key}": ${after.map((s) => `${stages[s.variation]} ${s.weight / 1000}%`).join(", ")}`;
      }
      doc.flags![key] = flag;
      audit(doc, context.actor, "migrate", key, { stage, percent: refs.length ? undefined : (options.percent ?? 100), contexts: refs.length ? refs.map((r) => `${r.kind}:${r.key}`) : undefined, back: options.back || undefined });
    });
    return said;
  });
  context.print(line);
  return 0;
}

/** The live figures the app instances publish to a figures store (`shareMigrationFigures` of @detour/migrate), for one flag. */
async function liveFigures(context: Context, spec: string, key: string, minutes: number): Promise<{ summary: MigrationSummary; stages: MigrationSummary["flags"][number]["stages"] }> {
  const store = openStore(parseStoreUrl(spec, { cwd: context.io.cwd }), { create: false, log: (level, message) => context.trace(`figures store ${level}: ${message}`) });
  try {
    await store.load();
    const summary = fleetSummary(store, minutes);
    return { summary, stages: summary.flags.find((f) => f.flag === key)?.stages ?? [] };
  } catch (error) {
    throw new StoreError(`--figures: cannot read ${spec}: ${messageOf(error)}`, { cause: error });
  } finally {
    await store.close().catch(() => undefined);
  }
}

function rate(x: number | null): string {
  return x === null ? "–" : `${(x * 100).toFixed(x === 0 || x === 1 ? 0 : 1)}%`;
}

function ms(x: number | null): string {
  return x === null ? "–" : x >= 100 ? `${Math.round(x)} ms` : x >= 1 ? `${x.toFixed(1)} ms` : `${Math.round(x * 1000)} µs`;
}

/** `detour migrate status <flag> [--figures STORE] [--minutes N] [--json]`: how many contexts are on each stage, and the live figures. */
export async function migrateStatusCommand(context: Context, key: string, options: { json?: boolean; figures?: string; minutes?: number }): Promise<number> {
  const flag = await context.read((view) => requireFlag(view.document(), key, "migrate status"));
  const stages = stagesOf(flag, "migrate status");
  const shares = flag.on ? percentages(flag) : stages.map((_, i) => (i === (flag.offVariation ?? 0) ? 100 : 0));
  const targeted = targetedCounts(flag);
  const rows = stages.map((stage, i) => ({ stage, percent: shares[i] ?? 0, targeted: targeted[i] ?? 0 }));
  const checkRatio = (flag.migration as { checkRatio?: number } | undefined)?.checkRatio;
  const live = options.figures === undefined ? null : await liveFigures(context, options.figures, key, options.minutes ?? 5);
  if (options.json) {
    const figures = live && { minutes: live.summary.minutes, instances: live.summary.instances, stages: live.stages };
    context.print(JSON.stringify({ flag: key, on: flag.on, checkRatio: checkRatio ?? 1, stages: rows, rules: flag.rules?.length ?? 0, ...(figures ? { figures } : {}) }, null, 2));
    return 0;
  }
  context.print(`${key}${flag.on ? "" : " (off: everyone on its off variation)"} · checks 1 read in ${checkRatio ?? 1}`);
  const width = Math.max(...stages.map((s) => s.length));
  for (const row of rows) {
    const bar = "█".repeat(Math.round(row.percent / 5));
    context.print(`  ${row.stage.padEnd(width)}  ${`${row.percent}%`.padStart(7)} of everyone ${bar}${row.targeted ? `  + ${row.targeted} targeted` : ""}`);
  }
  if (flag.rules?.length) context.print(`  ${flag.rules.length} rule${flag.rules.length === 1 ? "" : "s"} also give stages (evaluated per context)`);
  if (live) {
    context.print(`live, last ${live.summary.minutes} min, ${live.summary.instances} instance${live.summary.instances === 1 ? "" : "s"}:`);
    if (live.stages.length === 0) context.print("  no operation");
    for (const stage of live.stages) {
      const checked = stage.checks.consistent + stage.checks.inconsistent;
      const consistency = checked ? `consistent ${rate(stage.checks.consistencyRate)} of ${checked}${stage.checks.checkErrors ? `, ${stage.checks.checkErrors} check errors` : ""}` : "no checks";
      const origins = stage.origins.map((o) => `${o.origin} ${o.invocations} calls, errors ${rate(o.errorRate)}, p50 ${ms(o.p50Ms)}, p99 ${ms(o.p99Ms)}`).join("; ");
      context.print(`  ${stage.stage.padEnd(width)}  ${origins}; ${consistency}`);
    }
  }
  return 0;
}
