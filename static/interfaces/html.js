// The `html` interface: the task's `html`, sanitized by the vendored DOMPurify and never inserted raw;
// a task without `html` shows its `text`. `sanitizedHtml` is shared with `choice` (an html prompt).
import { textBox } from "../core/tokens.js";
import DOMPurify from "../vendor/purify.es.js";

// Links in task HTML open in a new tab that cannot reach back into the page (window.opener).
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

// Forms could submit the page away and <style> could restyle the whole page, not just the card.
const OPTIONS = { RETURN_DOM_FRAGMENT: true, FORBID_TAGS: ["form", "style"], FORBID_ATTR: ["formaction"] };

const sheet = new CSSStyleSheet();
sheet.replaceSync(`
  .html-content { font-size: 1.1rem; line-height: 1.6; overflow-wrap: anywhere; }
  .html-content > :first-child { margin-top: 0; }
  .html-content img { max-width: 100%; height: auto; }
  .html-content table { border-collapse: collapse; }
  .html-content td, .html-content th { border: 1px solid var(--line, #e0e0e5); padding: .25rem .5rem; }
`);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

/** A container (dir="auto") holding `html` sanitized: scripts, event handlers and javascript: URLs removed. */
export function sanitizedHtml(html) {
  const box = textBox("html-content");
  box.append(DOMPurify.sanitize(String(html), OPTIONS));
  return box;
}

/** A container (dir="auto") holding `text` as text, drawn as the `text` interface draws it. */
export function plainText(text) {
  const box = textBox("card-text");
  box.textContent = String(text);
  return box;
}

/** The task's prompt: its sanitized `html` when it has one, else its `text`, else nothing. */
export function prompt(task) {
  if (task.html != null) return sanitizedHtml(task.html);
  if (task.text != null) return plainText(task.text);
  return null;
}

export default {
  render(task, root) {
    const content = prompt(task);
    if (content) root.append(content);
    return { key: () => false, destroy() {} };
  },
};
