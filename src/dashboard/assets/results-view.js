// @ts-check
/** A job's results: paged by the server, problems first on request, searchable, each one's raw record on demand. */
import { getJson, jobPath } from "./api.js";
import { h, replace } from "./dom.js";
import { count } from "./format.js";

/** @typedef {import("./app.js").ViewContext} ViewContext */

const PAGE_SIZE = 25;

/**
 * @param {ViewContext} context
 * @param {string} jobId
 * @param {{ merged: boolean, chain: boolean }} options
 */
export function createResultsPanel(context, jobId, options) {
  let offset = 0;
  let merged = options.merged;
  let loading = 0;
  const problems = h("input", { attrs: { type: "checkbox", name: "problems" } });
  const status = h(
    "select",
    { attrs: { name: "result-status", "aria-label": "Result status" } },
    h("option", { attrs: { value: "" } }, "Any result"),
    context.session.resultStatuses.map((/** @type {string} */ value) =>
      h("option", { attrs: { value } }, value),
    ),
  );
  const search = h("input", {
    attrs: {
      type: "search",
      name: "result-q",
      placeholder: "Text in ID, output or error",
      "aria-label": "Search results",
    },
  });
  const mergedBox = h("input", { attrs: { type: "checkbox", name: "merged" } });
  mergedBox.checked = merged;
  const controls = h(
    "div",
    { class: "filters" },
    h("label", null, problems, " failed, expired and cancelled first"),
    status,
    search,
    options.chain
      ? h(
          "label",
          { title: "Each request's latest attempt along the retry chain" },
          mergedBox,
          " merged with follow-ups",
        )
      : null,
  );
  const summary = h("p", { class: "results-summary" });
  const head = h("thead");
  const body = h("tbody");
  const table = h("table", { class: "results" }, head, body);
  const pager = h("nav", { class: "pager", attrs: { "aria-label": "Result pages" } });
  const raw = h("section", { class: "raw", attrs: { hidden: "", "aria-label": "Raw record" } });
  const wrap = h("div", { class: "table-wrap" }, table);
  const element = h(
    "section",
    { class: "results-panel" },
    h("h3", null, "Results"),
    controls,
    summary,
    wrap,
    pager,
    raw,
  );

  /** @type {number | undefined} */
  let typing;
  const restart = () => {
    offset = 0;
    void load();
  };
  problems.addEventListener("change", restart);
  status.addEventListener("change", restart);
  mergedBox.addEventListener("change", () => {
    merged = mergedBox.checked;
    restart();
  });
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = window.setTimeout(restart, 300);
  });

  function params() {
    const query = new URLSearchParams({ offset: String(offset), limit: String(PAGE_SIZE) });
    if (problems.checked) query.set("problems", "1");
    if (status.value) query.set("status", status.value);
    if (search.value.trim()) query.set("q", search.value.trim());
    if (merged) query.set("merged", "1");
    return query;
  }

  /** @param {number} position */
  async function showRaw(position) {
    try {
      const found = await getJson(`${jobPath(jobId)}/results/${position}${merged ? "?merged=1" : ""}`);
      raw.hidden = false;
      const close = h("button", { attrs: { type: "button" } }, "Close");
      close.addEventListener("click", () => {
        raw.hidden = true;
      });
      replace(
        raw,
        h("header", null, h("h4", null, `Result #${position + 1}: `, found.result.id), close),
        h("pre", { class: "json" }, JSON.stringify(found.result, null, 2)),
      );
      raw.scrollIntoView({ block: "nearest" });
    } catch (error) {
      context.notify(/** @type {Error} */ (error).message, "error");
    }
  }

  /** @param {any} row */
  function resultRow(row) {
    const output =
      row.status === "succeeded"
        ? (row.text ?? "")
        : row.error
          ? `${row.error.code ? `${row.error.code}: ` : ""}${row.error.message}`
          : "";
    const open = h(
      "button",
      { class: "link", attrs: { type: "button" }, dataset: { position: String(row.position) } },
      "raw",
    );
    open.addEventListener("click", () => void showRaw(row.position));
    return h(
      "tr",
      { dataset: { position: String(row.position), status: row.status } },
      h("td", { class: "number" }, String(row.position + 1)),
      h("td", { class: "request-id" }, row.id),
      h("td", null, h("span", { class: `status result-${row.status}` }, row.status)),
      h(
        "td",
        { class: `output${row.status === "succeeded" ? "" : " error-text"}` },
        output,
        row.textLength > (row.text?.length ?? 0)
          ? h("span", { class: "muted" }, ` … (${count(row.textLength)} characters)`)
          : null,
        row.detail ? h("div", { class: "muted small" }, row.detail) : null,
      ),
      h(
        "td",
        { class: "number small" },
        row.usage ? `${count(row.usage.inputTokens)} in / ${count(row.usage.outputTokens)} out` : "–",
      ),
      merged ? h("td", { class: "small" }, row.attempt ? row.attempt.jobId : "–") : null,
      h("td", null, open),
    );
  }

  async function load() {
    const ticket = ++loading;
    try {
      const page = await getJson(`${jobPath(jobId)}/results?${params()}`);
      if (ticket !== loading) return;
      const labels = [
        "#",
        "Request ID",
        "Status",
        "Output or error",
        "Tokens",
        merged ? "Attempt" : null,
        "",
      ];
      replace(
        head,
        h(
          "tr",
          null,
          labels
            .filter((label) => label !== null)
            .map((label) => h("th", { attrs: { scope: "col" } }, label)),
        ),
      );
      wrap.hidden = !page.stored;
      if (!page.stored) {
        replace(summary, h("span", { class: "muted" }, page.reason));
        replace(body);
        replace(pager);
        return;
      }
      const counts = Object.entries(page.counts)
        .filter(([, value]) => value > 0)
        .map(([name, value]) => `${count(/** @type {number} */ (value))} ${name}`)
        .join(", ");
      const all = Object.values(page.counts).reduce((sum, value) => sum + value, 0);
      replace(
        summary,
        page.total === all
          ? `${count(all)} results: ${counts}.`
          : `${count(page.total)} of ${count(all)} results match (${counts}).`,
      );
      replace(
        body,
        page.rows.length
          ? page.rows.map(resultRow)
          : h("tr", null, h("td", { attrs: { colspan: "7" }, class: "muted empty" }, "No results match.")),
      );
      const previous = h("button", { attrs: { type: "button", rel: "prev" } }, "‹ Previous");
      previous.disabled = page.offset === 0;
      previous.addEventListener("click", () => {
        offset = Math.max(0, offset - PAGE_SIZE);
        void load();
      });
      const next = h("button", { attrs: { type: "button", rel: "next" } }, "Next ›");
      next.disabled = page.offset + PAGE_SIZE >= page.total;
      next.addEventListener("click", () => {
        offset += PAGE_SIZE;
        void load();
      });
      const last = Math.min(page.total, page.offset + PAGE_SIZE);
      replace(
        pager,
        previous,
        h(
          "span",
          { class: "page-info" },
          page.total ? `${count(page.offset + 1)}–${count(last)} of ${count(page.total)}` : "none",
        ),
        next,
      );
    } catch (error) {
      if (ticket === loading) context.notify(/** @type {Error} */ (error).message, "error");
    }
  }

  return { element, load };
}
