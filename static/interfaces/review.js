// The `review` interface: the versions that sessions gave for one input (task `versions`: each an answered
// task with `answer`, `sessions` and `default`), each drawn read-only by the original interface (task
// `view_id`) and labelled with who gave it, then the reviewer's own version below, drawn editable by the
// same interface from the task's own spans/accept (which the review recipe fills from the default version).
const sheet = new CSSStyleSheet();
sheet.replaceSync(`
  .review-versions { display: grid; gap: .75rem; grid-template-columns: repeat(auto-fit, minmax(17rem, 1fr)); }
  .review-version { border: 1px solid var(--line, #e0e0e5); border-top: 4px solid var(--ignore, #6e6e73);
    border-radius: .5rem; padding: .6rem .8rem; font-size: .9rem; min-width: 0; }
  .review-version.answer-accept { border-top-color: var(--accept, #1a7f37); }
  .review-version.answer-reject { border-top-color: var(--reject, #c62828); }
  .review-version-head { display: flex; flex-wrap: wrap; gap: .25rem .5rem; align-items: baseline; margin-bottom: .4rem; }
  .review-answer { font-weight: 700; font-size: .75rem; letter-spacing: .04em; text-transform: uppercase; }
  .answer-accept .review-answer { color: var(--accept, #1a7f37); }
  .answer-reject .review-answer { color: var(--reject, #c62828); }
  .answer-ignore .review-answer { color: var(--ignore, #6e6e73); }
  .review-sessions { color: var(--muted, #6e6e73); overflow-wrap: anywhere; }
  .review-default { font-size: .7rem; border: 1px solid var(--line, #e0e0e5); border-radius: .25rem; padding: 0 .3rem; }
  .review-version .card-text { font-size: 1rem; max-height: 14rem; }
  .review-version .view-message:empty { display: none; }
  /* Every version has the same input: a choice's prompt is shown once, in the reviewer's own version. */
  .review-version .choice-prompt { display: none; }
  .review-version .choice-option { padding: .2rem .5rem; font-size: .9rem; }
  .review-own { margin-top: 1.25rem; padding-top: 1rem; border-top: 2px solid var(--line, #e0e0e5); }
  .review-own-head { font-weight: 700; font-size: .85rem; color: var(--muted, #6e6e73); margin-bottom: .5rem; }
  .review-error { color: var(--reject, #c62828); }
`);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

const ANSWERS = { accept: "Accepted", reject: "Rejected", ignore: "Ignored" };

/** The interface that drew the original question: the task's `view_id`, else guessed from its fields. */
function originalView(task) {
  if (task.view_id) return task.view_id;
  if (Array.isArray(task.options)) return "choice";
  if (Array.isArray(task.tokens)) return "ner_manual";
  return task.spans ? "ner" : "classification";
}

/** A version's heading: its answer, the sessions that gave it, and whether it is the default. */
function heading(version) {
  const head = document.createElement("div");
  head.className = "review-version-head";
  const answer = document.createElement("span");
  answer.className = "review-answer";
  answer.textContent = ANSWERS[version.answer] || String(version.answer || "no answer");
  const sessions = document.createElement("span");
  sessions.className = "review-sessions";
  sessions.dir = "auto";
  const names = Array.isArray(version.sessions) ? version.sessions : [];
  sessions.textContent = names.length ? names.join(", ") : "unknown session";
  head.append(answer, sessions);
  if (version.default) {
    const badge = document.createElement("span");
    badge.className = "review-default";
    badge.textContent = "default";
    head.append(badge);
  }
  return head;
}

export default {
  render(task, root, ctx) {
    const viewId = originalView(task);
    const view = viewId === "review" ? null : ctx.views[viewId];
    if (!view) {
      const error = document.createElement("div");
      error.className = "review-error";
      const names = Object.keys(ctx.views).filter((name) => name !== "review").join(", ");
      error.textContent = `Can't review answers of the view_id "${viewId}"; known: ${names}.`;
      root.append(error);
      return { key: () => false, destroy() {} };
    }
    const { versions = [], ...question } = task;
    const handles = [];

    const list = document.createElement("div");
    list.className = "review-versions";
    const readonly = { ...ctx, readonly: true, change() {}, accept() {} };
    for (const version of Array.isArray(versions) ? versions : []) {
      const box = document.createElement("section");
      box.className = `review-version answer-${version.answer}`;
      const body = document.createElement("div");
      box.append(heading(version), body);
      list.append(box);
      const { sessions: _s, default: _d, ...answered } = version;
      handles.push(view.render({ ...question, ...answered }, body, readonly));
    }
    root.append(list);

    const own = document.createElement("section");
    own.className = "review-own";
    const ownHead = document.createElement("div");
    ownHead.className = "review-own-head";
    ownHead.textContent = "Your version";
    const ownBody = document.createElement("div");
    own.append(ownHead, ownBody);
    root.append(own);
    const editable = view.render(question, ownBody, ctx);

    return {
      // Only the reviewer's own version takes keys; the others are read-only.
      key: (event) => !!(editable && editable.key && editable.key(event)),
      destroy() {
        for (const handle of [...handles, editable]) if (handle && handle.destroy) handle.destroy();
      },
    };
  },
};
