// A small SVG line chart drawn by hand (no library): series of [x, y] points, redrawn as points
// arrive. Its aria-label and legend carry the latest values as text.
import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 600;
const H = 220;
const PAD = { left: 52, right: 12, top: 12, bottom: 28 };

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

export class LineChart {
  constructor({ id, title, series, yFormat = String, yMin = null, yMax = null, xLabel = "step", xFormat = (x) => Math.round(x).toLocaleString("en") }) {
    this.title = title;
    this.series = series.map((s) => ({ ...s, points: [] }));
    this.yFormat = yFormat;
    this.fixed = [yMin, yMax];
    this.xLabel = xLabel;
    this.xFormat = xFormat;
    this.xMax = null;
    this.svg = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart", id });
    this.legend = h("ul", { class: "legend" });
    this.element = h("figure", { class: "chart-box" }, h("figcaption", {}, title), this.svg, this.legend);
    this.draw();
  }

  add(name, x, y) {
    if (y === null || y === undefined || !Number.isFinite(y)) return;
    const series = this.series.find((s) => s.name === name);
    const last = series.points[series.points.length - 1];
    if (last && last[0] === x) series.points[series.points.length - 1] = [x, y];
    else series.points.push([x, y]);
  }

  setPoints(name, points) {
    this.series.find((s) => s.name === name).points = points.filter(([, y]) => Number.isFinite(y));
  }

  latest(name) {
    const points = this.series.find((s) => s.name === name).points;
    return points.length ? points[points.length - 1] : null;
  }

  range() {
    const all = this.series.flatMap((s) => s.points);
    const xs = all.map(([x]) => x);
    const ys = all.map(([, y]) => y);
    const [yMin, yMax] = [this.fixed[0] ?? Math.min(0, ...ys), this.fixed[1] ?? Math.max(1e-9, ...ys)];
    return { x0: Math.min(0, ...xs), x1: Math.max(this.xMax ?? 1, ...xs, 1), yMin, yMax: yMax > yMin ? yMax : yMin + 1 };
  }

  draw() {
    const { x0, x1, yMin, yMax } = this.range();
    const sx = (x) => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
    const sy = (y) => H - PAD.bottom - ((y - yMin) / (yMax - yMin)) * (H - PAD.top - PAD.bottom);
    const nodes = [svg("title", {}, this.title)];
    for (let i = 0; i <= 4; i++) {
      const y = yMin + ((yMax - yMin) * i) / 4;
      nodes.push(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: sy(y), y2: sy(y), class: "grid" }));
      nodes.push(svg("text", { x: PAD.left - 6, y: sy(y) + 4, class: "tick y" }, this.yFormat(y)));
    }
    for (const x of [x0, (x0 + x1) / 2, x1]) {
      nodes.push(svg("text", { x: sx(x), y: H - 8, class: "tick x" }, this.xFormat(x)));
    }
    for (const s of this.series) {
      const points = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
      nodes.push(svg("polyline", { points, class: `line ${s.className}`, "data-series": s.name, "data-count": s.points.length }));
    }
    this.svg.replaceChildren(...nodes);
    const summary = this.series.map((s) => {
      const last = this.latest(s.name);
      return last ? `${s.label} ${this.yFormat(last[1])} at ${this.xLabel} ${this.xFormat(last[0])}` : `${s.label}: no data yet`;
    });
    this.svg.setAttribute("aria-label", `${this.title}: ${summary.join("; ")}`);
    this.legend.replaceChildren(...this.series.map((s, i) => h("li", { class: s.className, "data-series": s.name }, summary[i])));
  }
}
