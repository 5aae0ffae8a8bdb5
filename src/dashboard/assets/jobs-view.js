// @ts-check
/** The jobs table: filters, totals, sorting and pages, all done by the server. */
import { getJson } from "./api.js";
import { progressBar, statusBar } from "./charts.js";
import { h, jobHref, replace } from "./dom.js";
import { count, counted, dateTime, money, relative, statusLabel } from "./format.js";

/** @typedef {import("./app.js").ViewContext} ViewContext */

const COLUMNS = [
  { key: "id", label: "Job" },
  { key: null, label: "Description" },
  { key: "provider", label: "Provider" },
  { key: "status", label: "Status" },
  { key: "progress", label: "Progress" },
  { key: "submitted", label: "Submitted" },
  { key: "cost", label: "Cost" },
];

/** @param {any} row */
function costCell(row) {
  if (row.costCounted)
    return row.actualCostUsd === null
      ? h("span", { class: "muted", title: "A model has no price" }, "no price")
      : money(row.actualCostUsd);
  if (row.resultsStored) return h("span", { class: "muted" }, "counting…");
  if (row.estimatedCostUsd !== null)
    return h(
      "span",
      { class: "estimate", title: "Estimated when submitted" },
      `~${money(row.estimatedCostUsd)}`,
    );
  return h("span", { class: "muted" }, "–");
}

/** @param {string} status */
export function statusBadge(status) {
  return h("span", { class: `status status-${status}` }, statusLabel(status));
}

/** @param {any} row @param {URLSearchParams} query */
function jobRow(row, query) {
  if (row.corrupt) {
    return h(
      "tr",
      { class: "corrupt", dataset: { jobId: row.jobId } },
      h("td", null, h("a", { href: jobHref(row.jobId), class: "job-link" }, row.jobId)),
      h(
        "td",
        { attrs: { colspan: "6" } },
        statusBadge("corrupt"),
        " ",
        h("span", { class: "error-text" }, row.error.message),
      ),
    );
  }
  const back = new URLSearchParams({ from: query.toString() });
  return h(
    "tr",
    { dataset: { jobId: row.jobId } },
    h(
      "td",
      null,
      h("a", { href: jobHref(row.jobId, back), class: "job-link" }, row.jobId),
      row.parentJobId ? h("div", { class: "muted small" }, "retry of ", row.parentJobId) : null,
      row.followUps > 0
        ? h("div", { class: "muted small" }, `${row.followUps} follow-up${row.followUps > 1 ? "s" : ""}`)
        : null,
    ),
    h(
      "td",
      { class: "description", title: row.description },
      row.description,
      row.descriptionTruncated ? "…" : "",
    ),
    h("td", null, row.provider),
    h(
      "td",
      null,
      statusBadge(row.status),
      row.finalizing ? h("span", { class: "badge finalizing" }, "finalizing") : null,
      row.providerStatus && row.providerStatus !== row.status
        ? h("div", { class: "muted small", title: "The provider's own status" }, row.providerStatus)
        : null,
    ),
    h(
      "td",
      null,
      progressBar({
        total: row.nRequests,
        completed: row.completed,
        failed: row.failed,
        finalizing: row.finalizing,
        label: `${row.jobId} progress`,
      }),
      h(
        "div",
        { class: "small" },
        `${count(row.completed + row.failed)} / ${count(row.nRequests)}`,
        row.failed ? h("span", { class: "failed-text" }, ` (${count(row.failed)} failed)`) : null,
      ),
      row.resultsExpireAt
        ? h(
            "div",
            { class: deadlineClass(row.resultsExpireAt), title: dateTime(row.resultsExpireAt) },
            `results until ${relative(row.resultsExpireAt)}`,
          )
        : null,
    ),
    h("td", { title: dateTime(row.submittedAt) }, relative(row.submittedAt)),
    h("td", { class: "number" }, costCell(row)),
  );
}

/** @param {string} iso */
export function deadlineClass(iso) {
  const left = Date.parse(iso) - Date.now();
  return left < 0 ? "small deadline expired" : left < 24 * 3600_000 ? "small deadline soon" : "small muted";
}

/**
 * @param {ViewContext} context
 */
export function createJobsView(context) {
  /** @type {URLSearchParams} */
  let query = new URLSearchParams();
  let loading = 0;
  const statusSelect = h(
    "select",
    { attrs: { name: "status", "aria-label": "Status" } },
    h("option", { attrs: { value: "" } }, "Any status"),
    [...context.session.jobStatuses, "corrupt"].map((/** @type {string} */ status) =>
      h("option", { attrs: { value: status } }, statusLabel(status)),
    ),
  );
  const providerSelect = h(
    "select",
    { attrs: { name: "provider", "aria-label": "Provider" } },
    h("option", { attrs: { value: "" } }, "Any provider"),
    context.session.providers.map((/** @type {string} */ provider) =>
      h("option", { attrs: { value: provider } }, provider),
    ),
  );
  const since = h("input", { attrs: { type: "date", name: "since", "aria-label": "Submitted from" } });
  const until = h("input", { attrs: { type: "date", name: "until", "aria-label": "Submitted until" } });
  const search = h("input", {
    attrs: { type: "search", name: "q", placeholder: "Job ID or description", "aria-label": "Search" },
  });
  const pageSize = h(
    "select",
    { attrs: { name: "pageSize", "aria-label": "Jobs per page" } },
    ["25", "50", "100", "200"].map((size) => h("option", { attrs: { value: size } }, `${size} per page`)),
  );
  pageSize.value = "50";
  const clear = h("button", { attrs: { type: "button" } }, "Clear");
  const filters = h(
    "form",
    { class: "filters", attrs: { role: "search" } },
    statusSelect,
    providerSelect,
    h("label", null, "from ", since),
    h("label", null, "to ", until),
    search,
    pageSize,
    clear,
  );
  const totals = h("section", { class: "totals", attrs: { "aria-label": "Totals" } });
  const banner = h("div", { class: "banner", attrs: { hidden: "" } });
  const head = h("thead");
  const body = h("tbody");
  const table = h("table", { class: "jobs" }, head, body);
  const pager = h("nav", { class: "pager", attrs: { "aria-label": "Pages" } });
  const element = h(
    "section",
    { class: "jobs-view" },
    totals,
    filters,
    banner,
    h("div", { class: "table-wrap" }, table),
    pager,
  );

  /** @param {Record<string, string | null>} changes */
  function setQuery(changes) {
    const next = new URLSearchParams(query);
    for (const [key, value] of Object.entries(changes)) {
      if (value === null || value === "") next.delete(key);
      else next.set(key, value);
    }
    if (!("page" in changes)) next.delete("page");
    context.navigate(`#/${next.toString() ? `?${next}` : ""}`);
  }

  /** @type {number | undefined} */
  let typing;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = window.setTimeout(() => setQuery({ q: search.value.trim() }), 300);
  });
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    setQuery({ q: search.value.trim() });
  });
  statusSelect.addEventListener("change", () => setQuery({ status: statusSelect.value }));
  providerSelect.addEventListener("change", () => setQuery({ provider: providerSelect.value }));
  since.addEventListener("change", () => setQuery({ since: since.value }));
  until.addEventListener("change", () => setQuery({ until: until.value }));
  pageSize.addEventListener("change", () =>
    setQuery({ pageSize: pageSize.value === "50" ? null : pageSize.value }),
  );
  clear.addEventListener("click", () => context.navigate("#/"));

  function renderHead() {
    const sort = query.get("sort") ?? "submitted";
    const order = query.get("order") ?? (sort === "submitted" || sort === "cost" ? "desc" : "asc");
    replace(
      head,
      h(
        "tr",
        null,
        COLUMNS.map((column) => {
          if (!column.key) return h("th", { attrs: { scope: "col" } }, column.label);
          const active = column.key === sort;
          const key = column.key;
          const button = h(
            "button",
            { class: "sort", attrs: { type: "button" }, dataset: { sort: key } },
            column.label,
            active ? (order === "asc" ? " ▲" : " ▼") : "",
          );
          button.addEventListener("click", () => {
            const nextOrder = active
              ? order === "asc"
                ? "desc"
                : "asc"
              : key === "submitted" || key === "cost"
                ? "desc"
                : "asc";
            setQuery({ sort: key, order: nextOrder });
          });
          return h(
            "th",
            {
              attrs: {
                scope: "col",
                "aria-sort": active ? (order === "asc" ? "ascending" : "descending") : "none",
              },
            },
            button,
          );
        }),
      ),
    );
  }

  /** @param {any} page */
  function render(page) {
    const matching = page.totals.matching;
    const active = query.get("status") ?? "";
    replace(
      totals,
      h(
        "div",
        { class: "chips" },
        h(
          "a",
          { href: "#/", class: `chip${active === "" ? " active" : ""}` },
          `All ${count(page.totals.jobs)}`,
        ),
        Object.entries(page.totals.byStatus)
          .filter(([status, value]) => value > 0 || status === active)
          .map(([status, value]) => {
            const next = new URLSearchParams(query);
            next.set("status", status);
            next.delete("page");
            return h(
              "a",
              {
                href: `#/?${next}`,
                class: `chip status-${status}${active === status ? " active" : ""}`,
                dataset: { status },
              },
              `${statusLabel(status)} ${count(/** @type {number} */ (value))}`,
            );
          }),
      ),
      statusBar(page.totals.byStatus),
      h(
        "dl",
        { class: "summary" },
        h("dt", null, "Matching"),
        h(
          "dd",
          { dataset: { total: "jobs" } },
          `${counted(matching.jobs, "job")}, ${counted(matching.requests, "request")}`,
        ),
        h("dt", null, "Cost"),
        h(
          "dd",
          { dataset: { total: "cost" } },
          money(matching.actualCostUsd),
          h("span", { class: "muted" }, ` counted over ${counted(matching.costCounted, "job")}`),
          matching.costPending
            ? h("span", { class: "muted" }, `, ${count(matching.costPending)} being counted`)
            : null,
          matching.costUnpriced
            ? h("span", { class: "muted" }, `, ${count(matching.costUnpriced)} without a price`)
            : null,
        ),
        h("dt", null, "Estimated"),
        h(
          "dd",
          null,
          `~${money(matching.estimatedCostUsd)}`,
          matching.estimateMissing
            ? h(
                "span",
                { class: "muted" },
                ` (${counted(matching.estimateMissing, "job")} without an estimate)`,
              )
            : null,
        ),
      ),
    );
    const corrupt = page.totals.byStatus.corrupt ?? 0;
    if (corrupt > 0 && active !== "corrupt") {
      banner.hidden = false;
      replace(
        banner,
        `${count(corrupt)} job record${corrupt > 1 ? "s" : ""} cannot be read. `,
        h("a", { href: "#/?status=corrupt" }, "Show them"),
      );
    } else banner.hidden = true;
    renderHead();
    replace(
      body,
      page.rows.length > 0
        ? page.rows.map((/** @type {any} */ row) => jobRow(row, query))
        : h(
            "tr",
            null,
            h("td", { class: "muted empty", attrs: { colspan: String(COLUMNS.length) } }, "No jobs match."),
          ),
    );
    const previous = h("button", { attrs: { type: "button", rel: "prev" } }, "‹ Previous");
    previous.disabled = page.page <= 1;
    previous.addEventListener("click", () => setQuery({ page: String(page.page - 1) }));
    const next = h("button", { attrs: { type: "button", rel: "next" } }, "Next ›");
    next.disabled = page.page >= page.pages;
    next.addEventListener("click", () => setQuery({ page: String(page.page + 1) }));
    replace(
      pager,
      previous,
      h(
        "span",
        { class: "page-info" },
        `Page ${count(page.page)} of ${count(page.pages)} (${count(page.total)} jobs)`,
      ),
      next,
    );
  }

  async function load() {
    const ticket = ++loading;
    try {
      const page = await getJson(`/api/jobs?${query}`);
      if (ticket === loading) render(page);
    } catch (error) {
      if (ticket === loading) context.notify(/** @type {Error} */ (error).message, "error");
    }
  }

  return {
    element,
    /** @param {URLSearchParams} next */
    show(next) {
      query = next;
      statusSelect.value = query.get("status") ?? "";
      providerSelect.value = query.get("provider") ?? "";
      since.value = query.get("since") ?? "";
      until.value = query.get("until") ?? "";
      if (document.activeElement !== search) search.value = query.get("q") ?? "";
      pageSize.value = query.get("pageSize") ?? "50";
      return load();
    },
    /** Something changed in the workspace: the page is read again. */
    onChange() {
      return load();
    },
  };
}
