// The `blocks` interface: the interfaces listed in `config.blocks` ([{view_id, ...settings}], as
// Prodigy's blocks config lists them), drawn in order into one card, all editing the one working copy.
// A block's settings override the recipe's config for that block; its `text` or `html` (e.g.
// `"text": null`, to show the text only once) override the task's, as in Prodigy. The number keys go
// to the first block that takes them.
const sheet = new CSSStyleSheet();
sheet.replaceSync(`
  .block + .block { margin-top: 1.25rem; padding-top: 1.25rem; border-top: 1px solid var(--line, #e0e0e5); }
  .block-error { color: var(--reject, #c62828); }
`);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

const TASK_OVERRIDES = ["text", "html"];
// Interfaces that take the number keys; in one card only the first of them gets them.
const NUMBER_KEYS = ["ner_manual", "spans_manual", "choice"];

/** A message in place of a block that cannot be drawn. */
function refuse(box, text) {
  box.classList.add("block-error");
  box.textContent = text;
}

export default {
  render(task, root, ctx) {
    const blocks = Array.isArray(ctx.config && ctx.config.blocks) ? ctx.config.blocks : [];
    const handles = [];
    const keyed = blocks.findIndex((block) => block && NUMBER_KEYS.includes(block.view_id));
    if (!blocks.length) refuse(root, 'The "blocks" interface needs a "blocks" list in the recipe\'s config.');
    blocks.forEach((block, index) => {
      const { view_id: viewId, ...settings } = block || {};
      const box = document.createElement("div");
      box.className = `block block-${viewId}`;
      root.append(box);
      const view = ctx.views[viewId];
      if (viewId === "blocks" || viewId === "review") {
        refuse(box, `A block cannot be "${viewId}"; use one of: ${known(ctx.views)}.`);
        return;
      }
      if (!view) {
        refuse(box, `Unknown block view_id "${viewId}"; use one of: ${known(ctx.views)}.`);
        return;
      }
      const shown = { ...task };
      for (const key of TASK_OVERRIDES) if (key in settings) shown[key] = settings[key];
      const { blocks: _nested, ...config } = { ...ctx.config, ...settings };
      // A later block's number keys would never reach it: it shows none (see choice.js).
      const numberKeys = !NUMBER_KEYS.includes(viewId) || index === keyed;
      handles.push(view.render(shown, box, { ...ctx, config, numberKeys }));
    });
    return {
      // The first block that wants a key gets it.
      key(event) {
        return handles.some((handle) => handle && handle.key && handle.key(event));
      },
      destroy() {
        for (const handle of handles) if (handle && handle.destroy) handle.destroy();
      },
    };
  },
};

function known(views) {
  return Object.keys(views).filter((name) => name !== "blocks" && name !== "review").join(", ");
}
