// Small statistics and formatting helpers shared by the benches.
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Spread of a sample: (max - min) / median. */
export function spread(xs) {
  return (Math.max(...xs) - Math.min(...xs)) / median(xs);
}

export const fmt = {
  ns: (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)),
  int: (x) => Math.round(x).toLocaleString("en-US"),
  ratio: (x, digits = 2) => `${x.toFixed(digits)}×`,
  pct: (x, digits = 2) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(digits)} %`,
  bytes: (x) => (Math.abs(x) >= 2 ** 20 ? `${(x / 2 ** 20).toFixed(1)} MiB` : Math.abs(x) >= 1024 ? `${(x / 1024).toFixed(1)} KiB` : `${Math.round(x)} B`),
};

/** A Markdown table. `align`: string of "l"/"r" per column. */
export function table(header, rows, align) {
  const a = align ?? header.map((_, i) => (i === 0 ? "l" : "r")).join("");
  const sep = [...a].map((c) => (c === "r" ? "---:" : c === "c" ? ":---:" : "---"));
  return [header, sep, ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
