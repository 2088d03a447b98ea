// binanno's page: one question at a time, drawn by the interface its view_id names; answers are
// held client-side (so undo works) and sent in batches. Task text is only ever inserted with
// textContent, never as HTML.
import { clickOnly, installKeys } from "./core/keys.js";
import { History } from "./core/history.js";
import { Outbox } from "./core/outbox.js";
import { Progress } from "./core/progress.js";
import { Queue } from "./core/queue.js";
import { VIEWS } from "./interfaces/index.js";

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("binanno-config").textContent || "{}");
const project = JSON.parse($("binanno-project").textContent || "{}");
const batchSize = Math.max(1, config.batch_size || 10);
const historySize = Math.max(1, config.history_size || 10);

const params = new URLSearchParams(window.location.search);
const named = params.get("session");
const storageKey = "binanno-session-" + (project.dataset || "");
let sessionId = named ? `${project.dataset}-${named}` : sessionStorage.getItem(storageKey);
const session = () => sessionId || null;

let current = null;    // the working copy of the question on screen (edited by its view)
let handle = null;     // what the view's render returned
let shownAt = performance.now();
let lastReply = { progress: null, status: null, total: null };
const messageKinds = new Set();  // what the message line is about now ("save", "load", ...)

function setMessage(text, isError, kind) {
  const el = $("message");
  el.textContent = text || "";
  el.classList.toggle("error", !!isError);
  messageKinds.clear();
  if (kind) messageKinds.add(kind);
}

function clearMessage(kind) {
  if (messageKinds.has(kind)) setMessage("");
}

function remember(reply) {
  if (reply.session_id && !named) {
    sessionId = reply.session_id;
    sessionStorage.setItem(storageKey, sessionId);
  }
  if ("progress" in reply) lastReply.progress = reply.progress;
  if ("total" in reply) lastReply.total = reply.total;
  if (reply.status) lastReply.status = reply.status;
  renderProgress();
}

const history = new History($("history"), historySize);
const progress = new Progress({ fill: $("progress-fill"), counts: $("counts"), track: $("progress-track"), enabled: !!project.has_progress });
const queue = new Queue({
  batchSize, session, onReply: remember, onMessage: setMessage,
  onArrived: () => {
    clearMessage("load");
    if (!current) next();
  },
});
const outbox = new Outbox({
  batchSize, keep: batchSize, session,
  onSent: (batch, reply) => {
    history.markSent(batch);
    remember(reply);
    if (!current && !queue.items.length) renderDone();
  },
  onRefused: (refused, message) => {
    // The refused answers come back on screen, first one first, for the annotator to change.
    for (const { task } of refused) history.remove(task);
    if (current) queue.unshift(current);
    const back = refused.map(({ task }) => unanswered(task));
    const first = back.shift();
    queue.unshift(...back);
    show(first);
    setMessage(`This answer was refused: ${refused[0].error}. Change it and answer again.`, true, "refused");
    renderProgress();
  },
  onMessage: setMessage,
});

function unanswered(task) {
  const copy = structuredClone(task);
  delete copy.answer;
  delete copy._timestamp;
  delete copy._view_seconds;
  return copy;
}

// Which interface draws a task: its own `_view_id` (ner.teach mixes card kinds), else the recipe's.
function viewOf(task) {
  return task._view_id || project.view_id || "text";
}

function show(task) {
  if (handle) handle.destroy();
  handle = null;
  // The view edits a deep copy: the question in the queue stays as it was sent.
  current = task ? structuredClone(task) : null;
  if (current) {
    $("done").hidden = true;
    $("card").hidden = false;
    renderTask(current);
  }
  setButtons();
}

function answer(kind) {
  if (!current) return;
  // How long the question was on screen, so `stats` can show seconds per question type.
  const seconds = Math.round((performance.now() - shownAt) / 100) / 10;
  const task = Object.assign(structuredClone(current), { answer: kind, _timestamp: Math.round(Date.now() / 1000), _view_seconds: seconds });
  history.add(task);
  outbox.add(task);
  clearMessage("refused");
  clearMessage("undo");
  next();
  renderProgress();
}

function undo() {
  const task = outbox.undo();
  if (!task) {
    setMessage(history.entries.length ? "The last answers are already saved and can't be undone." : "Nothing to undo.", false, "undo");
    return;
  }
  history.remove(task);
  if (current) queue.unshift(current);
  show(unanswered(task));
  renderProgress();
  setMessage("Undone: answer it again.", false, "undo");
}

function save() {
  if (!outbox.items.length) {
    setMessage("All answers are saved.", false, "save");
    return Promise.resolve();
  }
  setMessage("Saving…", false, "save");
  return outbox.send().then(() => {
    // Unless something else was said meanwhile (a refused answer, a failed attempt).
    if (!outbox.items.length && messageKinds.has("save") && !$("message").classList.contains("error")) {
      setMessage("All answers are saved.", false, "save");
    }
    renderProgress();
    if (!current && queue.exhausted && !queue.items.length) renderDone();
  });
}

function next() {
  show(queue.shift());
  if (current) return;
  if (queue.exhausted && !queue.fetching) {
    renderDone();
  } else {
    $("card").hidden = false;
    renderLoading();
  }
}

function setButtons() {
  for (const id of ["accept", "reject", "ignore"]) $(id).disabled = !current;
}

function ctxFor(task, readonly) {
  return {
    config, readonly, views: VIEWS,
    change(fields) { Object.assign(task, structuredClone(fields)); },
    accept() { if (task === current) answer("accept"); },
  };
}

function renderTask(task) {
  shownAt = performance.now();
  const root = $("card-view");
  root.replaceChildren();
  const viewId = viewOf(task);
  const view = VIEWS[viewId];
  const body = document.createElement("div");
  body.className = `view view-${viewId}`;
  root.append(body);
  if (!view) {
    body.textContent = `This task asks for the interface "${viewId}", which the page doesn't have: known ones are ${Object.keys(VIEWS).join(", ")}.`;
    body.classList.add("view-unknown");
  } else {
    handle = view.render(task, body, ctxFor(task, false)) || null;
  }
  renderMeta(task);
}

function formatMeta(key, value) {
  // Scores read alike whatever JSON made of them: 1 and 0.987 both with two decimals.
  if (typeof value === "number") {
    return Number.isInteger(value) && !/score|prob|confidence/i.test(key) ? String(value) : value.toFixed(2);
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}

function renderMeta(task) {
  const meta = $("card-meta");
  meta.replaceChildren();
  if (config.hide_meta) return;
  for (const [key, value] of Object.entries(task.meta || {})) {
    const item = document.createElement("span");
    item.className = "meta-item";
    item.dir = "auto";
    item.textContent = `${key}: ${formatMeta(key, value)}`;
    meta.append(item);
  }
}

function renderLoading() {
  const root = $("card-view");
  root.replaceChildren();
  const text = document.createElement("div");
  text.className = "card-loading";
  text.textContent = "Loading questions…";
  root.append(text);
  $("card-meta").replaceChildren();
}

function renderDone() {
  if (current) return;
  $("card").hidden = true;
  $("done").hidden = false;
  $("done-text").textContent = outbox.items.length
    ? `${outbox.items.length} answer(s) not saved yet: press Save (ctrl+s).`
    : "Every answer is saved. You can close this tab.";
  setButtons();
}

function renderProgress() {
  progress.render({ ...lastReply, unsent: outbox.items });
  $("session").textContent = sessionId || "";
}

function toggleHelp() {
  $("help").hidden = !$("help").hidden;
  $("help-toggle").setAttribute("aria-expanded", String(!$("help").hidden));
}

function setUpPage() {
  if (config.title) $("title").textContent = config.title;
  const instructions = config.instructions;
  if (instructions) {
    $("instructions").textContent = String(instructions);
    $("instructions").hidden = false;
  }
  for (const id of ["accept", "reject", "ignore"]) clickOnly($(id), () => answer($(id).dataset.answer));
  clickOnly($("undo"), undo);
  clickOnly($("save"), save);
  clickOnly($("help-toggle"), toggleHelp);
  installKeys({ view: () => handle, actions: { accept: () => answer("accept"), reject: () => answer("reject"), ignore: () => answer("ignore"), undo, save, help: toggleHelp } });
  const flush = () => history.markSent(outbox.flush());
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") flush(); });
}

// Exposed for tests and power users: the answers held in the page.
window.binanno = {
  get outbox() { return outbox.items; },
  get history() { return history.entries; },
  get queue() { return queue.items; },
  get current() { return current; },
  save: () => save(),
  views: VIEWS,
};

setUpPage();
renderLoading();
setButtons();
queue.fetch();
