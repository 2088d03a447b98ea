// binanno's page: one question at a time, answers held client-side (so undo works) and sent
// in batches. Task text is only ever inserted with textContent, never as HTML.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("binanno-config").textContent || "{}");
  const project = JSON.parse(document.getElementById("binanno-project").textContent || "{}");
  const batchSize = Math.max(1, config.batch_size || 10);
  const historySize = Math.max(1, config.history_size || 10);
  const $ = (id) => document.getElementById(id);

  const params = new URLSearchParams(window.location.search);
  const named = params.get("session");
  const storageKey = "binanno-session-" + (project.dataset || "");
  let sessionId = named ? `${project.dataset}-${named}` : sessionStorage.getItem(storageKey);

  const queue = [];       // questions not yet shown
  const outbox = [];      // answered, not yet sent: these can be undone
  const history = [];     // last answers, newest first: {task, sent}
  const seen = new Set(); // task hashes shown in this page's lifetime
  let current = null;
  let shownAt = performance.now(); // when the current question was drawn
  let fetching = false;
  let exhausted = false;
  let sending = null;     // the promise of the request in flight
  let retryDelay = 500;
  let lastReply = { progress: null, status: null, total: null };

  function setMessage(text, isError) {
    const el = $("message");
    el.textContent = text || "";
    el.classList.toggle("error", !!isError);
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { /* empty body */ }
    if (!response.ok) {
      const error = new Error(data.error || `${response.status} ${response.statusText}`);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function remember(reply) {
    if (reply.session_id && !named) {
      sessionId = reply.session_id;
      sessionStorage.setItem(storageKey, sessionId);
    }
    if ("progress" in reply) lastReply.progress = reply.progress;
    if (reply.status) lastReply.status = reply.status;
    if ("total" in reply) lastReply.total = reply.total;
    renderProgress();
  }

  async function fetchQuestions() {
    if (fetching || exhausted) return;
    fetching = true;
    try {
      const reply = await post("/get_session_questions", { session_id: sessionId || null });
      remember(reply);
      let fresh = 0;
      for (const task of reply.tasks || []) {
        if (seen.has(task._task_hash)) continue;
        seen.add(task._task_hash);
        queue.push(task);
        fresh += 1;
      }
      if (!(reply.tasks || []).length) exhausted = true;
      if (reply.status && reply.status.error) setMessage(reply.status.error, true);
      retryDelay = 500;
      if (!fresh && !exhausted) setTimeout(fetchQuestions, 1000);
    } catch (error) {
      setMessage(`Can't load questions (${error.message}); retrying…`, true);
      setTimeout(fetchQuestions, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    } finally {
      fetching = false;
    }
    if (!current) next();
  }

  // Send everything in the outbox. Resending is safe: the server stores a task once per session.
  function send() {
    if (sending || !outbox.length) return sending || Promise.resolve();
    const batch = outbox.slice();
    sending = post("/give_answers", { answers: batch, session_id: sessionId || null })
      .then((reply) => {
        outbox.splice(0, batch.length);
        for (const item of history) if (batch.includes(item.task)) item.sent = true;
        remember(reply);
        renderHistory();
        retryDelay = 500;
        if (!current && !queue.length) renderDone();
      })
      .catch((error) => {
        if (error.status === 400) {
          setMessage(`The server refused these answers: ${error.message}`, true);
        } else {
          setMessage(`Can't save answers (${error.message}); they're kept and will be retried.`, true);
          setTimeout(send, retryDelay);
          retryDelay = Math.min(retryDelay * 2, 10000);
        }
      })
      .finally(() => { sending = null; });
    return sending;
  }

  function flushOnExit() {
    if (!outbox.length) return;
    const body = JSON.stringify({ answers: outbox, session_id: sessionId || null });
    if (navigator.sendBeacon && navigator.sendBeacon("/give_answers", new Blob([body], { type: "application/json" }))) {
      for (const item of history) if (outbox.includes(item.task)) item.sent = true;
      outbox.length = 0;
    }
  }

  function answer(kind) {
    if (!current) return;
    // How long the question was on screen, so `stats` can show seconds per question type.
    const seconds = Math.round((performance.now() - shownAt) / 100) / 10;
    const task = Object.assign({}, current, { answer: kind, _timestamp: Math.round(Date.now() / 1000), _view_seconds: seconds });
    outbox.push(task);
    history.unshift({ task, sent: false });
    history.length = Math.min(history.length, historySize);
    setMessage("");
    // Keep one batch undoable; send once more than a batch is waiting.
    if (outbox.length > batchSize) send();
    next();
    renderHistory();
  }

  function undo() {
    if (!outbox.length) {
      setMessage(history.length ? "The last answers are already saved and can't be undone." : "Nothing to undo.");
      return;
    }
    const task = outbox.pop();
    const index = history.findIndex((item) => item.task === task);
    if (index >= 0) history.splice(index, 1);
    if (current) queue.unshift(current);
    const restored = Object.assign({}, task);
    delete restored.answer;
    delete restored._timestamp;
    delete restored._view_seconds;
    current = restored;
    $("done").hidden = true;
    $("card").hidden = false;
    renderTask(current);
    renderHistory();
    setMessage("Undone: answer it again.");
  }

  function save() {
    send();
    setMessage(outbox.length ? "Saving…" : "All answers are saved.");
  }

  function next() {
    current = queue.shift() || null;
    if (queue.length < Math.ceil(batchSize / 2)) fetchQuestions();
    if (current) {
      $("done").hidden = true;
      $("card").hidden = false;
      renderTask(current);
    } else if (exhausted && !fetching) {
      renderDone();
    } else {
      $("card").hidden = false;
      renderLoading();
    }
    setButtons();
  }

  function setButtons() {
    for (const id of ["accept", "reject", "ignore"]) $(id).disabled = !current;
  }

  // Rendering: every piece of task data goes through textContent.
  function renderTask(task) {
    shownAt = performance.now();
    const label = $("card-label");
    const text = $("card-text");
    text.replaceChildren();
    const spans = (task.spans || []).slice().sort((a, b) => a.start - b.start);
    const content = task.text || "";
    if (task._question === "verify") {
      label.hidden = false;
      label.textContent = spans.length ? "Are these all of its entities, and all right?" : "Does this sentence have no entities?";
    } else if (task.label && !spans.length) {
      label.hidden = false;
      label.textContent = task.label;
    } else {
      label.hidden = true;
      label.textContent = "";
    }
    let position = 0;
    for (const span of spans) {
      if (span.start < position) continue;
      text.append(document.createTextNode(content.slice(position, span.start)));
      const mark = document.createElement("mark");
      mark.className = "span";
      mark.textContent = content.slice(span.start, span.end);
      if (span.label) {
        const tag = document.createElement("span");
        tag.className = "span-label";
        tag.textContent = span.label;
        mark.append(tag);
      }
      text.append(mark);
      position = span.end;
    }
    text.append(document.createTextNode(content.slice(position)));
    const meta = $("card-meta");
    meta.replaceChildren();
    const entries = Object.entries(task.meta || {});
    for (const [key, value] of entries) {
      const item = document.createElement("span");
      item.className = "meta-item";
      const shown = typeof value === "number" ? (Number.isInteger(value) ? value : value.toFixed(2)) : JSON.stringify(value);
      item.textContent = `${key}: ${typeof value === "string" ? value : shown}`;
      meta.append(item);
    }
  }

  function renderLoading() {
    $("card-label").hidden = true;
    $("card-text").textContent = "Loading questions…";
    $("card-meta").replaceChildren();
  }

  function renderDone() {
    if (current) return;
    $("card").hidden = true;
    $("done").hidden = false;
    $("done-text").textContent = outbox.length
      ? `${outbox.length} answer(s) not saved yet: press Save (ctrl+s).`
      : "Every answer is saved. You can close this tab.";
    setButtons();
  }

  function renderHistory() {
    const list = $("history");
    list.replaceChildren();
    for (const { task, sent } of history) {
      const item = document.createElement("li");
      item.className = `history-item ${task.answer}${sent ? " sent" : ""}`;
      const span = (task.spans || [])[0];
      const snippet = span ? (task.text || "").slice(span.start, span.end) : (task.text || "").slice(0, 60);
      const what = document.createElement("span");
      what.className = "history-text";
      what.textContent = snippet + (span && span.label ? ` · ${span.label}` : task.label ? ` · ${task.label}` : "");
      const badge = document.createElement("span");
      badge.className = "history-answer";
      badge.textContent = task.answer + (sent ? " ✓ saved" : "");
      item.append(what, badge);
      list.append(item);
    }
    renderProgress();
  }

  function renderProgress() {
    const status = lastReply.status || {};
    const unsent = outbox.length;
    let fraction = null;
    if (typeof lastReply.progress === "number") fraction = lastReply.progress;
    else if (lastReply.total) fraction = ((status.answered || 0) + unsent) / lastReply.total;
    const fill = $("progress-fill");
    fill.style.width = fraction === null ? "0%" : `${Math.round(Math.min(1, fraction) * 100)}%`;
    fill.parentElement.hidden = fraction === null;
    const parts = [];
    if (fraction !== null) parts.push(`progress ${Math.round(fraction * 100)}%`);
    parts.push(`this session ${(status.session_answered || 0) + unsent}`);
    parts.push(`accept ${status.accept || 0} · reject ${status.reject || 0} · ignore ${status.ignore || 0}`);
    if (typeof status.model_accuracy === "number") {
      parts.push(`model right on last ${status.model_accuracy_n}: ${Math.round(status.model_accuracy * 100)}%`);
    }
    if (unsent) parts.push(`${unsent} unsaved`);
    $("counts").textContent = parts.join("  ·  ");
    $("session").textContent = sessionId || "";
  }

  // Keys and buttons.
  const keys = { a: "accept", x: "reject", " ": "ignore" };
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      save();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.repeat) { event.preventDefault(); return; }
    const kind = keys[event.key.toLowerCase()];
    if (kind) {
      event.preventDefault();
      answer(kind);
    } else if (event.key === "Backspace") {
      event.preventDefault();
      undo();
    }
  });
  for (const id of ["accept", "reject", "ignore"]) {
    $(id).addEventListener("click", () => answer($(id).dataset.answer));
  }
  $("undo").addEventListener("click", undo);
  $("save").addEventListener("click", save);
  window.addEventListener("pagehide", flushOnExit);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") flushOnExit(); });

  // Exposed for tests and power users: the answers held in the page.
  window.binanno = { outbox, history, queue, save: () => send(), get current() { return current; } };

  renderLoading();
  setButtons();
  fetchQuestions();
})();
