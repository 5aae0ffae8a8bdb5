// @ts-check
/** One job: its shards' progress, counts, times, deadline, cost, retry chain, actions and results. */
import { getJson, jobPath, postJson } from "./api.js";
import { costByModelChart, progressBar, progressChart } from "./charts.js";
import { h, jobHref, replace } from "./dom.js";
import { count, dateTime, duration, money, relative } from "./format.js";
import { deadlineClass, statusBadge } from "./jobs-view.js";
import { createResultsPanel } from "./results-view.js";

/** @typedef {import("./app.js").ViewContext} ViewContext */

/** @param {string} label @param {import("./dom.js").Child | import("./dom.js").Child[]} value @param {string} [key] */
function fact(label, value, key) {
  return [h("dt", null, label), h("dd", key ? { dataset: { fact: key } } : null, value)];
}

/** @param {any} link */
function chainLink(link) {
  return h(
    "li",
    null,
    h("a", { href: jobHref(link.jobId) }, link.jobId),
    " ",
    link.status ? statusBadge(link.status) : h("span", { class: "muted" }, "(no record)"),
    link.nRequests !== null
      ? h("span", { class: "muted small" }, ` ${count(link.nRequests)} requests`)
      : null,
  );
}

/** @param {any} shard */
function shardRow(shard) {
  return h(
    "tr",
    { dataset: { shard: String(shard.index) } },
    h("td", { class: "number" }, String(shard.index + 1)),
    h("td", null, shard.model ?? "–"),
    h(
      "td",
      null,
      progressBar({ ...shard, wide: true, label: `shard ${shard.index + 1} progress` }),
      h(
        "div",
        { class: "small shard-counts" },
        `${count(shard.completed)} done, `,
        h("span", { class: shard.failed ? "failed-text" : "" }, `${count(shard.failed)} failed`),
        `, ${count(shard.remaining)} remaining`,
      ),
    ),
    h(
      "td",
      null,
      statusBadge(shard.status),
      shard.finalizing ? h("span", { class: "badge finalizing" }, "finalizing") : null,
      h("div", { class: "muted small" }, shard.providerStatus ?? `not sent (${shard.state})`),
      shard.retryAt ? h("div", { class: "small" }, `sent again ${relative(shard.retryAt)}`) : null,
      shard.error
        ? h(
            "div",
            { class: "error-text small" },
            shard.error.code ? `${shard.error.code}: ` : "",
            shard.error.message,
          )
        : null,
    ),
    h("td", { class: "small mono" }, shard.batchId ?? "–"),
    h(
      "td",
      { class: shard.resultsExpireAt ? deadlineClass(shard.resultsExpireAt) : "muted small" },
      shard.resultsExpireAt ? dateTime(shard.resultsExpireAt) : "–",
    ),
  );
}

/**
 * @param {ViewContext} context
 * @param {string} jobId
 * @param {URLSearchParams} query
 */
export function createJobView(context, jobId, query) {
  const back = query.get("from");
  const header = h("header", { class: "job-header" });
  const actions = h("div", { class: "actions" });
  const facts = h("dl", { class: "facts" });
  const chain = h("section", { class: "chain" });
  const shardsBody = h("tbody");
  const shards = h(
    "section",
    { class: "shards" },
    h("h3", null, "Provider batches"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        null,
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            ["#", "Model", "Progress", "Status", "Batch", "Results until"].map((label) =>
              h("th", { attrs: { scope: "col" } }, label),
            ),
          ),
        ),
        shardsBody,
      ),
    ),
  );
  const charts = h("section", { class: "charts" });
  const resultsSlot = h("div");
  const element = h(
    "section",
    { class: "job-view", dataset: { jobId } },
    h("nav", { class: "crumbs" }, h("a", { href: `#/${back ? `?${back}` : ""}` }, "← All jobs")),
    header,
    actions,
    facts,
    chain,
    shards,
    charts,
    resultsSlot,
  );
  /** @type {ReturnType<typeof createResultsPanel> | null} */
  let results = null;
  let resultsStored = false;
  let loading = 0;
  /** @type {string[]} */
  let related = [jobId];
  /** @type {number | undefined} */
  let costRetry;

  /** @param {string} label @param {() => Promise<void>} work @param {string} [kind] */
  function actionButton(label, work, kind = "") {
    const button = h("button", { class: kind, attrs: { type: "button" } }, label);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await work();
      } catch (error) {
        context.notify(/** @type {Error} */ (error).message, "error");
      } finally {
        button.disabled = false;
      }
    });
    return button;
  }

  let actionsShown = "";

  /** @param {any} detail */
  function renderActions(detail) {
    const job = detail.job;
    // Drawn again only when they change: a live update must not pull a button from under the pointer.
    const shown = JSON.stringify([detail.actions, job.resultsStored, detail.chain.mergedAvailable]);
    if (shown === actionsShown) return;
    actionsShown = shown;
    /** @type {HTMLElement[]} */
    const buttons = [];
    if (detail.actions.refresh) {
      buttons.push(
        actionButton("Refresh", async () => {
          const answer = await postJson(`${jobPath(jobId)}/refresh`);
          context.notify(
            `Checked at ${job.provider}: ${answer.job.status} (${answer.job.providerStatus})${answer.job.fetchedResults ? ", results fetched" : ""}.`,
          );
          await load();
        }),
      );
    }
    if (detail.actions.cancel) {
      buttons.push(
        actionButton(
          "Cancel…",
          async () => {
            const sure = await context.confirm(
              `Cancel job ${jobId}? The provider stops its unfinished batches; requests already done keep their results.`,
              "Cancel the job",
            );
            if (!sure) return;
            const answer = await postJson(`${jobPath(jobId)}/cancel`, { confirm: jobId });
            context.notify(answer.accepted ? `Cancelling ${jobId}.` : `Nothing left to cancel in ${jobId}.`);
            await load();
          },
          "danger",
        ),
      );
    }
    if (detail.actions.retry) {
      buttons.push(
        actionButton("Retry failed", async () => {
          const answer = await postJson(`${jobPath(jobId)}/retry`);
          context.notify(
            `Follow-up job ${answer.job.jobId} submitted with ${count(answer.job.nRequests)} requests.`,
          );
          context.navigate(jobHref(answer.job.jobId));
        }),
      );
    }
    /** @param {string} format @param {boolean} merged */
    const download = (format, merged) =>
      h(
        "a",
        {
          class: "button",
          href: `${jobPath(jobId)}/download?format=${format}${merged ? "&merged=1" : ""}`,
          attrs: { download: "" },
          ...(merged ? { title: "Each request's latest attempt along the retry chain" } : {}),
        },
        `Download ${merged ? "merged " : ""}${format.toUpperCase()}`,
      );
    if (job.resultsStored) buttons.push(download("jsonl", false), download("csv", false));
    if (detail.chain.mergedAvailable) buttons.push(download("jsonl", true), download("csv", true));
    replace(actions, buttons);
  }

  /** @param {any} detail */
  function render(detail) {
    const job = detail.job;
    related = [
      jobId,
      ...(detail.chain.parent ? [detail.chain.parent.jobId] : []),
      ...detail.chain.followUps.map((/** @type {any} */ link) => link.jobId),
    ];
    replace(
      header,
      h(
        "h2",
        null,
        job.jobId,
        " ",
        statusBadge(job.status),
        detail.progress.finalizing ? h("span", { class: "badge finalizing" }, "finalizing") : null,
      ),
      job.description
        ? h("p", { class: "description-full" }, job.description, job.descriptionTruncated ? "…" : "")
        : null,
    );
    renderActions(detail);
    const progress = detail.progress;
    const cost = detail.cost;
    const poll = detail.poll;
    replace(
      facts,
      fact("Provider", `${job.provider}${job.endpoint ? ` ${job.endpoint}` : ""}`),
      fact("Provider status", job.providerStatus || "–"),
      fact("Requests", count(progress.total), "requests"),
      fact("Done", count(progress.completed), "completed"),
      fact(
        "Failed",
        h("span", { class: progress.failed ? "failed-text" : "" }, count(progress.failed)),
        "failed",
      ),
      fact("Remaining", count(progress.remaining), "remaining"),
      fact("Progress", progressBar({ ...progress, wide: true, label: "job progress" })),
      progress.etaMs !== null && progress.remaining > 0
        ? fact("Time left", `about ${duration(progress.etaMs)}`)
        : null,
      fact("Submitted", h("span", { title: job.submittedAt }, dateTime(job.submittedAt))),
      fact(
        "Updated",
        h("span", { title: job.updatedAt }, `${dateTime(job.updatedAt)} (${relative(job.updatedAt)})`),
      ),
      fact("Finished", job.finishedAt ? dateTime(job.finishedAt) : "not yet"),
      fact(
        "Results",
        job.resultsStored
          ? "in the workspace"
          : job.resultsExpireAt
            ? h(
                "span",
                { class: deadlineClass(job.resultsExpireAt) },
                `at the provider until ${dateTime(job.resultsExpireAt)} (${relative(job.resultsExpireAt)})`,
              )
            : "not fetched",
        "results",
      ),
      fact(
        "Estimated cost",
        cost.estimate
          ? `~${money(cost.estimate.cost_usd)} (${count(cost.estimate.input_tokens)} in, ${count(cost.estimate.output_tokens)} out)`
          : "–",
        "estimate",
      ),
      fact(
        "Actual cost",
        cost.actual
          ? [
              money(cost.actual.costUsd),
              h(
                "span",
                { class: "muted" },
                ` (${count(cost.actual.inputTokens)} in, ${count(cost.actual.outputTokens)} out; ${cost.actual.pricesAsOf})`,
              ),
            ]
          : cost.pending
            ? "counting…"
            : "when the results are in",
        "actual",
      ),
      poll
        ? fact(
            "Last check",
            poll.error
              ? h("span", { class: "error-text" }, `${poll.error.code}: ${poll.error.message}`)
              : `${relative(poll.checkedAt)}; next ${relative(poll.nextCheckAt)}`,
          )
        : null,
    );
    replace(
      chain,
      detail.chain.parent || detail.chain.followUps.length
        ? [
            h("h3", null, "Retry chain"),
            detail.chain.parent
              ? h(
                  "p",
                  null,
                  "Runs again requests of ",
                  h("a", { href: jobHref(detail.chain.parent.jobId) }, detail.chain.parent.jobId),
                  " ",
                  detail.chain.parent.status ? statusBadge(detail.chain.parent.status) : null,
                )
              : null,
            detail.chain.followUps.length
              ? [
                  h("p", null, "Follow-up jobs:"),
                  h("ul", { class: "follow-ups" }, detail.chain.followUps.map(chainLink)),
                ]
              : null,
          ]
        : [],
    );
    replace(shardsBody, detail.shards.map(shardRow));
    replace(
      charts,
      h(
        "figure",
        null,
        h("figcaption", null, "Progress over time"),
        progressChart(detail.history, progress.total),
      ),
      h("figure", null, h("figcaption", null, "Cost by model"), costByModelChart(cost.actual?.byModel ?? {})),
    );
    if (!results || resultsStored !== job.resultsStored) {
      resultsStored = job.resultsStored;
      results = createResultsPanel(context, jobId, {
        merged: false,
        chain: detail.chain.followUps.length > 0,
      });
      replace(resultsSlot, results.element);
      void results.load();
    }
    clearTimeout(costRetry);
    if (cost.pending) costRetry = window.setTimeout(() => void load(), 1000);
  }

  /** @param {any} corrupt */
  function renderCorrupt(corrupt) {
    replace(
      header,
      h("h2", null, corrupt.jobId, " ", statusBadge("corrupt")),
      h("p", { class: "error-text" }, corrupt.error.message),
    );
    for (const part of [actions, facts, chain, shardsBody, charts, resultsSlot]) replace(part);
  }

  async function load() {
    const ticket = ++loading;
    try {
      const detail = await getJson(jobPath(jobId));
      if (ticket !== loading) return;
      if (detail.corrupt) renderCorrupt(detail);
      else render(detail);
    } catch (error) {
      if (ticket !== loading) return;
      replace(
        header,
        h("h2", null, jobId),
        h("p", { class: "error-text" }, /** @type {Error} */ (error).message),
      );
    }
  }

  return {
    element,
    show() {
      return load();
    },
    /** @param {{ jobs: string[] | null }} change */
    onChange(change) {
      if (change.jobs === null || change.jobs.some((id) => related.includes(id))) return load();
      return Promise.resolve();
    },
    destroy() {
      clearTimeout(costRetry);
    },
  };
}
