// A tiny SVG line-chart generator (no plotting dependency): one or more
// series of { x, y } points, log or linear x axis, linear y axis from 0,
// ticks, grid, axis titles, legend. Output is a self-contained SVG string.

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

function esc(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Round "nice" step for a linear axis. */
function niceStep(range, targetTicks) {
  const raw = range / targetTicks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
}

function compact(v) {
  if (v >= 1e6 && v % 1e6 === 0) return `${v / 1e6}M`;
  if (v >= 1e3 && v % 1e3 === 0) return `${v / 1e3}k`;
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
}

/**
 * @param {object} o
 * @param {string} o.title
 * @param {string} o.xLabel
 * @param {string} o.yLabel
 * @param {boolean} [o.logX]
 * @param {{ name: string, points: { x: number, y: number }[], dashed?: boolean }[]} o.series
 * @param {string} [o.note] a small line under the chart (machine, date)
 */
export function lineChart({ title, xLabel, yLabel, logX = false, series, note, width = 720, height = 420, yMin = 0, yMax }) {
  const m = { top: 48, right: 24, bottom: 64 + (note ? 18 : 0), left: 72 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  const tx = logX ? (v) => Math.log10(v) : (v) => v;
  if (x0 === x1) x1 = x0 + 1;
  const top = yMax ?? Math.max(...ys) * 1.15;
  const yStep = niceStep(top - yMin, 5);
  const yTop = Math.ceil(top / yStep) * yStep;
  const X = (v) => m.left + ((tx(v) - tx(x0)) / (tx(x1) - tx(x0))) * w;
  const Y = (v) => m.top + h - ((v - yMin) / (yTop - yMin)) * h;

  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600">${esc(title)}</text>`);

  // y grid and ticks
  for (let v = yMin; v <= yTop + yStep / 1e6; v += yStep) {
    const y = Y(v).toFixed(1);
    out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#444">${esc(compact(Number(v.toPrecision(6))))}</text>`);
  }
  // x ticks
  const xTicks = [];
  if (logX) {
    for (let e = Math.floor(Math.log10(x0)); 10 ** e <= x1 * 1.0001; e++) if (10 ** e >= x0 / 1.0001) xTicks.push(10 ** e);
  } else {
    const step = niceStep(x1 - x0, 6);
    for (let v = Math.ceil(x0 / step) * step; v <= x1; v += step) xTicks.push(v);
  }
  for (const v of xTicks) {
    const x = X(v).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + h}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${x}" y="${m.top + h + 18}" text-anchor="middle" fill="#444">${esc(compact(v))}</text>`);
  }
  // axes
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + h}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}" stroke="#333"/>`);
  out.push(`<text x="${m.left + w / 2}" y="${m.top + h + 40}" text-anchor="middle" fill="#222">${esc(xLabel)}${logX ? " (log scale)" : ""}</text>`);
  out.push(`<text transform="translate(18 ${m.top + h / 2}) rotate(-90)" text-anchor="middle" fill="#222">${esc(yLabel)}</text>`);

  // series
  series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length];
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    const d = pts.map((p, j) => `${j ? "L" : "M"}${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(" ");
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`);
    for (const p of pts) out.push(`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="3.2" fill="${color}"><title>${esc(`${s.name}: x=${compact(p.x)}, y=${Number(p.y.toPrecision(4))}`)}</title></circle>`);
  });

  // legend (top-left inside the plot)
  const lx = m.left + 12;
  let ly = m.top + 10;
  const legendWidth = Math.max(...series.map((s) => s.name.length)) * 6.6 + 40;
  out.push(`<rect x="${lx - 6}" y="${ly - 8}" width="${legendWidth}" height="${series.length * 18 + 6}" fill="#fff" fill-opacity="0.85" stroke="#ddd"/>`);
  series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length];
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly + 4}" y2="${ly + 4}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`);
    out.push(`<text x="${lx + 28}" y="${ly + 4}" dominant-baseline="middle" fill="#222">${esc(s.name)}</text>`);
    ly += 18;
  });
  if (note) out.push(`<text x="${width / 2}" y="${height - 10}" text-anchor="middle" font-size="10.5" fill="#666">${esc(note)}</text>`);
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
