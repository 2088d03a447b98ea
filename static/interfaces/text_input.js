// The `text_input` interface: a text field whose value goes to the answer's `task[field_id]`
// (Prodigy's settings: field_id, default "user_input"; field_label; field_placeholder; field_rows,
// a textarea above one row; field_autofocus). Keys typed in it are the field's, never the page's (core/keys.js).
const sheet = new CSSStyleSheet();
sheet.replaceSync(`
  .text-input { display: grid; gap: .35rem; margin-top: .75rem; }
  .text-input:first-child { margin-top: 0; }
  .text-input label { font-size: .85rem; font-weight: 600; color: var(--muted, #6e6e73); }
  .text-input input, .text-input textarea { font: inherit; width: 100%; padding: .5rem .65rem;
    border: 1px solid var(--line, #e0e0e5); border-radius: .4rem; background: var(--card, #fff); color: inherit; }
  .text-input input:focus, .text-input textarea:focus { outline: 2px solid var(--focus, #0a66c2); outline-offset: 1px; }
  .text-input-hint { font-size: .75rem; color: var(--muted, #6e6e73); }
`);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

let fields = 0; // one id per field drawn, so that each label points at its own field

export default {
  render(task, root, ctx) {
    const config = ctx.config || {};
    const fieldId = config.field_id || "user_input";
    const rows = Math.max(1, Number(config.field_rows) || 1);
    const box = document.createElement("div");
    box.className = "text-input";
    const field = document.createElement(rows > 1 ? "textarea" : "input");
    field.id = `text-input-${++fields}`;
    field.name = fieldId;
    field.dir = "auto";
    if (rows > 1) field.rows = rows;
    else field.type = "text";
    if (config.field_placeholder) field.placeholder = String(config.field_placeholder);
    field.value = task[fieldId] == null ? "" : String(task[fieldId]);
    field.readOnly = !!ctx.readonly;
    if (config.field_label) {
      const label = document.createElement("label");
      label.htmlFor = field.id;
      label.dir = "auto";
      label.textContent = String(config.field_label);
      box.append(label);
    }
    box.append(field);
    if (!ctx.readonly) {
      const hint = document.createElement("div");
      hint.className = "text-input-hint";
      hint.textContent = "Esc leaves the field, so that the answer keys work again.";
      box.append(hint);
    }
    root.append(box);

    field.addEventListener("input", () => ctx.change({ [fieldId]: field.value }));
    // The page's keys skip a focused field; Esc hands them back.
    field.addEventListener("keydown", (event) => {
      if (event.key === "Escape") field.blur();
    });
    // Focus after the card is on screen (autofocus on a node not yet attached does nothing).
    if (config.field_autofocus && !ctx.readonly) requestAnimationFrame(() => field.focus());

    return { key: () => false, destroy() {} };
  },
};
