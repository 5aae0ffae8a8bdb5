// @ts-check
/** Small pictures drawn as SVG elements or sized boxes: no library, no markup parsed. */
import { h, svg } from "./dom.js";
import { count, money } from "./format.js";

/**
 * A bar split into done, failed and remaining, sized through the style object (allowed by the page's policy).
 * @param {{ total: number, completed: number, failed: number, finalizing?: boolean, label?: string, wide?: boolean }} progress
 */
export function progressBar(progress) {
  const total = Math.max(progress.total, 1);
  const share = (/** @type {number} */ part) => `${Math.min(100, (part / total) * 100)}%`;
  const done = h("span", { class: "segment done" });
  done.style.width = share(progress.completed);
  const failed = h("span", { class: "segment failed" });
  failed.style.width = share(progress.failed);
  const remaining = Math.max(0, progress.total - progress.completed - progress.failed);
  return h(
    "span",
    {
      class: `progress${progress.finalizing ? " finalizing" : ""}${progress.wide ? " wide" : ""}`,
      title: `${count(progress.completed)} done, ${count(progress.failed)} failed, ${count(remaining)} remaining of ${count(progress.total)}`,
      attrs: {
        role: "progressbar",
        "aria-valuemin": "0",
        "aria-valuemax": String(progress.total),
        "aria-valuenow": String(progress.completed + progress.failed),
        "aria-label": progress.label ?? "progress",
      },
    },
    done,
    failed,
  );
}

/**
 * The share of jobs in each status, as one stacked bar.
 * @param {Record<string, number>} byStatus
 */
export function statusBar(byStatus) {
  const total = Object.values(byStatus).reduce((sum, value) => sum + value, 0);
  const bar = h("div", { class: "status-bar", attrs: { "aria-hidden": "true" } });
  if (total === 0) return bar;
  for (const [status, value] of Object.entries(byStatus)) {
    if (value === 0) continue;
    const segment = h("span", { class: `segment status-${status}`, title: `${status}: ${count(value)}` });
    segment.style.width = `${(value / total) * 100}%`;
    bar.append(segment);
  }
  return bar;
}

/**
 * Requests done and failed over time, from the samples the dashboard took while the job ran.
 * @param {{ at: string, completed: number, failed: number }[]} samples
 * @param {number} total
 */
export function progressChart(samples, total) {
  const width = 360;
  const height = 140;
  const pad = { left: 40, right: 10, top: 10, bottom: 24 };
  if (samples.length < 2) {
    return h(
      "p",
      { class: "muted chart-empty" },
      "The picture fills in while the dashboard watches the job run.",
    );
  }
  const times = samples.map((sample) => Date.parse(sample.at));
  const start = Math.min(...times);
  const end = Math.max(...times, start + 1);
  const top = Math.max(total, 1);
  const x = (/** @type {number} */ time) =>
    pad.left + ((time - start) / (end - start)) * (width - pad.left - pad.right);
  const y = (/** @type {number} */ value) => pad.top + (1 - value / top) * (height - pad.top - pad.bottom);
  const line = (/** @type {(sample: { completed: number, failed: number }) => number} */ pick) =>
    samples
      .map((sample, index) => `${x(times[index] ?? start).toFixed(1)},${y(pick(sample)).toFixed(1)}`)
      .join(" ");
  return svg(
    "svg",
    { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Progress over time" },
    svg("line", { x1: pad.left, y1: y(0), x2: width - pad.right, y2: y(0), class: "axis" }),
    svg("line", { x1: pad.left, y1: y(top), x2: pad.left, y2: y(0), class: "axis" }),
    svg("text", { x: pad.left - 4, y: y(top) + 4, "text-anchor": "end", class: "tick" }, count(top)),
    svg("text", { x: pad.left - 4, y: y(0), "text-anchor": "end", class: "tick" }, "0"),
    svg("text", { x: pad.left, y: height - 6, class: "tick" }, new Date(start).toLocaleTimeString()),
    svg(
      "text",
      { x: width - pad.right, y: height - 6, "text-anchor": "end", class: "tick" },
      new Date(end).toLocaleTimeString(),
    ),
    svg("polyline", { points: line((sample) => sample.completed), class: "line done" }),
    svg("polyline", { points: line((sample) => sample.failed), class: "line failed" }),
  );
}

/**
 * What each model cost, as horizontal bars.
 * @param {Record<string, { costUsd: number | null, requests: number }>} byModel
 */
export function costByModelChart(byModel) {
  const models = Object.entries(byModel);
  if (models.length === 0) return h("p", { class: "muted chart-empty" }, "No cost counted yet.");
  const width = 360;
  const row = 22;
  const label = 150;
  const height = models.length * row + 4;
  const most = Math.max(...models.map(([, model]) => model.costUsd ?? 0), 1e-12);
  return svg(
    "svg",
    { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Cost by model" },
    models.map(([name, model], index) => {
      const barWidth = ((model.costUsd ?? 0) / most) * (width - label - 70);
      const top = index * row + 2;
      return svg(
        "g",
        {},
        svg("text", { x: label - 6, y: top + 14, "text-anchor": "end", class: "tick" }, name),
        svg("rect", { x: label, y: top + 3, width: Math.max(1, barWidth), height: row - 8, class: "bar" }),
        svg(
          "text",
          { x: label + Math.max(1, barWidth) + 4, y: top + 14, class: "tick" },
          model.costUsd === null ? "no price" : money(model.costUsd),
        ),
      );
    }),
  );
}
