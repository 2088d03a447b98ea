// The `compare` interface (Prodigy's A/B evaluation): the task's `input` above its two versions,
// `accept` and `reject` (each a {text} or {html}); accept (a) says the first is better, reject (x) the
// second. A recipe that shuffles which system's output is which keeps that in the task's `mapping`.
import { prompt } from "./html.js";
import { labelHeading } from "../core/tokens.js";

const sheet = new CSSStyleSheet();
sheet.replaceSync(`
  .compare-input { margin-bottom: 1rem; }
  .compare-versions { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: .75rem; }
  .compare-version { border: 2px solid var(--line, #e0e0e5); border-radius: .5rem; padding: .6rem .8rem; }
  .compare-version.accept { border-color: var(--accept, #1a7f37); }
  .compare-version.reject { border-color: var(--reject, #c62828); }
  .compare-version h3 { margin: 0 0 .35rem; font-size: .8rem; font-weight: 600; color: var(--muted, #6e6e73); }
`);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

/** One version's box: its sanitized html or its text, under a heading that says which key picks it. */
export function versionBox(version, kind, heading) {
  const box = document.createElement("section");
  box.className = `compare-version ${kind}`;
  const title = document.createElement("h3");
  title.textContent = heading;
  box.append(title);
  const body = version && typeof version === "object" ? prompt(version) : prompt({ text: version == null ? "" : version });
  if (body) box.append(body);
  return box;
}

export default {
  render(task, root) {
    const input = task.input && typeof task.input === "object" ? prompt(task.input) : prompt(task);
    if (input) {
      input.classList.add("compare-input");
      root.append(input);
    }
    root.append(labelHeading("Which is better?"));
    const versions = document.createElement("div");
    versions.className = "compare-versions";
    versions.append(versionBox(task.accept, "accept", "1st: accept (a)"), versionBox(task.reject, "reject", "2nd: reject (x)"));
    root.append(versions);
    return { key: () => false, destroy() {} };
  },
};
