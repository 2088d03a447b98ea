// The `image` interface: the task's `image` (a URL, a path this server serves, or a data: URI) drawn with
// an <img>, under the task's label and above its text, if it has them. Manual boxes are not drawn here.
import { labelHeading, textBox } from "../core/tokens.js";

const sheet = new CSSStyleSheet();
sheet.replaceSync(`
  .media-box { display: flex; justify-content: center; }
  .media-box img { max-width: 100%; max-height: 60vh; height: auto; object-fit: contain; image-rendering: auto; }
  .media-box audio { width: 100%; }
  .media-text { margin-top: .75rem; }
  .media-missing { color: var(--muted, #6e6e73); font-style: italic; }
`);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

/** Whether `src` may be loaded as `kind` ("image", "audio"): http(s), a path of this server, or a data: URI of that kind. */
export function safeSource(src, kind) {
  if (typeof src !== "string" || !src) return false;
  if (src.startsWith("data:")) return src.startsWith(`data:${kind}/`);
  if (src.startsWith("/") || src.startsWith("./")) return true;
  return /^https?:\/\//i.test(src);
}

/** The label above, the media element `make()` returns, and the task's text below: the shared card of
 * `image` and `audio`. `make` is only called for a source that may be loaded: setting `src` alone starts a load. */
export function mediaCard(task, root, kind, make) {
  if (task.label) root.append(labelHeading(task.label));
  const box = textBox("media-box");
  let element = null;
  if (safeSource(task[kind], kind)) {
    element = make(task[kind]);
    box.append(element);
  } else {
    box.classList.add("media-missing");
    box.textContent = `This task has no ${kind} the page can show.`;
  }
  root.append(box);
  if (task.text) {
    const text = textBox("card-text media-text");
    text.textContent = task.text;
    root.append(text);
  }
  return element;
}

export default {
  render(task, root) {
    mediaCard(task, root, "image", (src) => {
      const img = document.createElement("img");
      img.alt = task.text || (task.meta && task.meta.file) || "image";
      img.src = src;
      return img;
    });
    return { key: () => false, destroy() {} };
  },
};
