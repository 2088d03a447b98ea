// The `choice` interface: the task's text (or sanitized html) above its `options`; keys 1-9 and clicks
// toggle an option, and the chosen ids go to the answer's `accept` in the options' order, as Prodigy
// stores them. `choice_style` "single" (the default) keeps one, "multiple" keeps several;
// `choice_auto_accept` accepts the task as soon as a single choice is made. A text task with `spans`
// shows them highlighted (ner.teach's "which label is this?"), and an option with `spans` is the task's
// text with those highlighted (ner.teach's "which of these is the entity?").
import { prompt } from "./html.js";
import { drawSpans, labelHeading, textBox } from "../core/tokens.js";

const sheet = new CSSStyleSheet();
sheet.replaceSync(`
  .choice-prompt { margin-bottom: 1rem; }
  .choice-options { list-style: none; margin: 0; padding: 0; display: grid; gap: .4rem; }
  .choice-option { display: flex; align-items: baseline; gap: .6rem; width: 100%; text-align: start;
    font: inherit; font-size: 1.05rem; color: inherit; background: var(--card, #fff); cursor: pointer;
    border: 2px solid var(--line, #e0e0e5); border-radius: .5rem; padding: .5rem .75rem; }
  .choice-option:hover:not(:disabled) { border-color: var(--focus, #0a66c2); }
  .choice-option.chosen { border-color: var(--accept, #1a7f37); background: #e9f6ec; }
  .choice-option:disabled { cursor: default; }
  .choice-option kbd { font: .75rem ui-monospace, monospace; color: var(--muted, #6e6e73);
    border: 1px solid var(--line, #e0e0e5); border-radius: .25rem; padding: 0 .3rem; }
  .choice-mark { width: 1.1rem; flex: none; font-weight: 700; color: var(--accept, #1a7f37); }
`);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

export default {
  render(task, root, ctx) {
    const config = ctx.config || {};
    const multiple = config.choice_style === "multiple";
    const options = Array.isArray(task.options) ? task.options : [];
    const chosen = new Set(Array.isArray(task.accept) ? task.accept : []);
    // In blocks, an earlier block (ner_manual's labels) may own the number keys: then only clicks here.
    const keys = !ctx.readonly && ctx.numberKeys !== false;

    if (task._question === "label") root.append(labelHeading("Which label is this?"));
    if (task._question === "boundary") root.append(labelHeading(`Which of these is the ${task.label || "entity"}?`));
    const marked = task.html == null && task.text != null && Array.isArray(task.spans) && task.spans.length;
    const content = marked ? drawSpans(textBox("card-text choice-prompt"), task.text, task.spans, config.labels) : prompt(task);
    if (content) {
      content.classList.add("choice-prompt");
      root.append(content);
    }
    const list = document.createElement("ul");
    list.className = "choice-options";
    list.setAttribute("role", "group");  // toggle buttons (aria-pressed), single or multiple
    const buttons = options.map((option, index) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "choice-option";
      button.dataset.id = String(option.id);
      button.disabled = !!ctx.readonly;
      const mark = document.createElement("span");
      mark.className = "choice-mark";
      const text = document.createElement("span");
      text.className = "choice-text";
      text.dir = "auto";
      if (Array.isArray(option.spans) && task.text != null) drawSpans(text, task.text, option.spans, config.labels);
      else text.textContent = option.text == null ? String(option.id) : String(option.text);
      button.append(mark, text);
      if (index < 9 && keys) {
        const kbd = document.createElement("kbd");
        kbd.textContent = String(index + 1);
        button.append(kbd);
      }
      // Keep the focus off the button, so that Enter or space later cannot press it again.
      button.addEventListener("mousedown", (event) => event.preventDefault());
      button.addEventListener("click", () => toggle(index));
      item.append(button);
      list.append(item);
      return button;
    });
    root.append(list);
    draw();
    // Every answer has an `accept` list, empty when nothing was chosen, as Prodigy stores them.
    if (!ctx.readonly && !Array.isArray(task.accept)) ctx.change({ accept: [] });

    function draw() {
      options.forEach((option, index) => {
        const on = chosen.has(option.id);
        buttons[index].classList.toggle("chosen", on);
        buttons[index].setAttribute("aria-pressed", on ? "true" : "false");
        buttons[index].firstChild.textContent = on ? "✓" : "";
      });
    }

    function toggle(index) {
      if (ctx.readonly || index >= options.length) return;
      const id = options[index].id;
      const was = chosen.has(id);
      if (!multiple) chosen.clear();
      if (!was) chosen.add(id);
      else if (multiple) chosen.delete(id);
      draw();
      ctx.change({ accept: options.map((o) => o.id).filter((o) => chosen.has(o)) });
      if (!multiple && !was && config.choice_auto_accept) ctx.accept();
    }

    return {
      key(event) {
        if (!keys || event.ctrlKey || event.metaKey || event.altKey) return false;
        if (!/^[1-9]$/.test(event.key)) return false;
        const index = Number(event.key) - 1;
        if (index >= options.length) return false;
        toggle(index);
        return true;
      },
      destroy() {},
    };
  },
};
