// @ts-check
/** The dashboard page: the session, the views by address (#/ and #/jobs/ID), live updates and notices. */
import { startSession } from "./api.js";
import { byId, h, replace } from "./dom.js";
import { createJobView } from "./job-view.js";
import { createJobsView } from "./jobs-view.js";

/**
 * @typedef {object} ViewContext
 * @property {any} session what the server said about itself (/api/session)
 * @property {(message: string, kind?: "info" | "error") => void} notify
 * @property {(hash: string) => void} navigate
 * @property {(message: string, confirmLabel: string) => Promise<boolean>} confirm
 */
/**
 * @typedef {object} View
 * @property {HTMLElement} element
 * @property {(query: URLSearchParams) => Promise<void>} show
 * @property {(change: { jobs: string[] | null, version: number, costVersion: number }) => Promise<void>} onChange
 * @property {() => void} [destroy]
 */

const main = byId("view");
const notices = byId("notices");
const live = byId("live");

/** @param {string} message @param {"info" | "error"} [kind] */
function notify(message, kind = "info") {
  const notice = h(
    "div",
    { class: `notice ${kind}`, attrs: { role: kind === "error" ? "alert" : "status" } },
    message,
  );
  notices.append(notice);
  setTimeout(() => notice.remove(), kind === "error" ? 10_000 : 5_000);
}

/** @param {string} message @param {string} confirmLabel @returns {Promise<boolean>} */
function confirmDialog(message, confirmLabel) {
  const dialog = /** @type {HTMLDialogElement} */ (byId("confirm-dialog"));
  const yes = byId("confirm-yes");
  const no = byId("confirm-no");
  replace(byId("confirm-message"), message);
  replace(yes, confirmLabel);
  return new Promise((resolve) => {
    /** @param {boolean} answer */
    const finish = (answer) => {
      yes.removeEventListener("click", onYes);
      no.removeEventListener("click", onNo);
      dialog.removeEventListener("cancel", onNo);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onYes = () => finish(true);
    const onNo = () => finish(false);
    yes.addEventListener("click", onYes);
    no.addEventListener("click", onNo);
    dialog.addEventListener("cancel", onNo);
    dialog.showModal();
    no.focus();
  });
}

/** @param {string} hash */
function navigate(hash) {
  if (location.hash === hash) void route();
  else location.hash = hash;
}

/** The view an address names: "#/?query" the jobs, "#/jobs/<id>?query" one job. */
function parseHash() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path = "/", search = ""] = hash.split("?", 2);
  const query = new URLSearchParams(search);
  const job = /^\/jobs\/([^/]+)$/.exec(path);
  if (job?.[1]) {
    try {
      return { kind: "job", jobId: decodeURIComponent(job[1]), query };
    } catch {
      return { kind: "jobs", jobId: "", query: new URLSearchParams() };
    }
  }
  return { kind: "jobs", jobId: "", query };
}

/** @type {View | null} */
let current = null;
let currentKey = "";
/** @type {ViewContext} */
let context;

async function route() {
  const target = parseHash();
  const key = target.kind === "job" ? `job:${target.jobId}` : "jobs";
  if (!current || key !== currentKey) {
    current?.destroy?.();
    current =
      target.kind === "job" ? createJobView(context, target.jobId, target.query) : createJobsView(context);
    currentKey = key;
    replace(main, current.element);
    document.title = target.kind === "job" ? `${target.jobId} · Relay` : "Jobs · Relay";
    window.scrollTo(0, 0);
  }
  await current.show(target.query);
  document.body.dataset.ready = "true";
}

/** @typedef {{ jobs: string[] | null, version: number, costVersion: number }} Change */

/** @param {Change | null} earlier @param {Change} later @returns {Change} */
function merge(earlier, later) {
  if (!earlier) return later;
  return {
    ...later,
    jobs: earlier.jobs === null || later.jobs === null ? null : [...earlier.jobs, ...later.jobs],
  };
}

/** Workspace changes arrive as server-sent events; a burst of them is one reload, never two at once. */
function listen() {
  let running = false;
  /** @type {Change | null} */
  let queued = null;
  /** @param {Change} change */
  const run = async (change) => {
    if (running) {
      queued = merge(queued, change);
      return;
    }
    running = true;
    try {
      await current?.onChange(change);
    } finally {
      running = false;
      const next = queued;
      queued = null;
      if (next) void run(next);
    }
  };
  const source = new EventSource("/api/events");
  let seen = -1;
  let costSeen = -1;
  source.addEventListener("open", () => {
    live.textContent = "live";
    live.className = "live on";
  });
  source.addEventListener("error", () => {
    live.textContent = "reconnecting…";
    live.className = "live off";
  });
  /** @param {MessageEvent} event */
  const onEvent = (event) => {
    /** @type {Change} */
    const change = JSON.parse(event.data);
    // After a reconnect, anything may have changed while the page was not listening.
    const missed =
      event.type === "hello" && seen !== -1 && (change.version !== seen || change.costVersion !== costSeen);
    seen = change.version;
    costSeen = change.costVersion;
    document.body.dataset.version = String(change.version);
    if (event.type === "change") void run(change);
    else if (missed) void run({ ...change, jobs: null });
  };
  source.addEventListener("hello", onEvent);
  source.addEventListener("change", onEvent);
}

async function start() {
  let session;
  try {
    session = await startSession();
  } catch (error) {
    replace(
      main,
      h("p", { class: "error-text" }, `The dashboard cannot start: ${/** @type {Error} */ (error).message}`),
    );
    return;
  }
  document.body.classList.toggle("read-only", session.readOnly);
  byId("read-only").hidden = !session.readOnly;
  replace(byId("workspace"), session.directory);
  context = { session, notify, navigate, confirm: confirmDialog };
  window.addEventListener("hashchange", () => void route());
  listen();
  await route();
}

void start();
