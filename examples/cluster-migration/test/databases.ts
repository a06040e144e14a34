import { randomBytes } from "node:crypto";
import { pgCluster, type Cluster } from "../src/cluster.js";
import { createDatabase, dropDatabase } from "../src/setup.js";

/** The local PostgreSQL (trust auth), as the machine provides it; PGURL overrides. */
export const SERVER = process.env.PGURL ?? "postgres://postgres@127.0.0.1:5432";

export interface TestClusters {
  old: Cluster;
  new: Cluster;
  urls: { old: string; new: string };
  /** Ends the pools and drops both databases. */
  drop(): Promise<void>;
}

/** Two fresh databases with the notes table, named uniquely for this run: the old and the new cluster. */
export async function createTestClusters(label: string): Promise<TestClusters> {
  const id = `cm_${label}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const urls = { old: `${SERVER}/${id}_old`, new: `${SERVER}/${id}_new` };
  await createDatabase(urls.old);
  await createDatabase(urls.new);
  const old = pgCluster("old", urls.old);
  const neu = pgCluster("new", urls.new);
  await old.migrate();
  await neu.migrate();
  return {
    old,
    new: neu,
    urls,
    async drop() {
      await Promise.allSettled([old.close(), neu.close()]);
      await dropDatabase(urls.old);
      await dropDatabase(urls.new);
    },
  };
}
