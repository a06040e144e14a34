/**
 * A log-scale latency histogram (buckets ~4.5% wide, from 1 µs): small,
 * mergeable across instances by adding counts, and precise enough for p50/p99.
 */
const GROWTH = Math.log(1.045);
const MIN_MS = 0.001;

export type SparseHistogram = Record<number, number>;

export function bucketOf(ms: number): number {
  return ms <= MIN_MS ? 0 : Math.ceil(Math.log(ms / MIN_MS) / GROWTH);
}

/** The upper bound (ms) of a bucket. */
export function boundOf(bucket: number): number {
  return MIN_MS * Math.exp(bucket * GROWTH);
}

export function addTo(histogram: SparseHistogram, ms: number): void {
  const b = bucketOf(ms);
  histogram[b] = (histogram[b] ?? 0) + 1;
}

export function mergeInto(target: SparseHistogram, source: Readonly<SparseHistogram>): void {
  for (const [b, n] of Object.entries(source)) target[Number(b)] = (target[Number(b)] ?? 0) + n;
}

/** The q-quantile (0..1) in ms, or null when empty: the upper bound of the bucket holding it. */
export function quantile(histogram: Readonly<SparseHistogram>, q: number): number | null {
  const buckets = Object.keys(histogram).map(Number).sort((a, b) => a - b);
  let total = 0;
  for (const b of buckets) total += histogram[b]!;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const b of buckets) {
    seen += histogram[b]!;
    if (seen >= rank) return boundOf(b);
  }
  return boundOf(buckets.at(-1)!);
}
