// The `diff` interface (Prodigy's): the `reject` version's text changed into the `accept` version's,
// word by word: removed words struck through, added ones underlined. Accept (a) says the accept
// version is right. A very long pair is shown as the two texts instead of a diff.
import { textBox } from "../core/tokens.js";
import { versionBox } from "./compare.js";

const sheet = new CSSStyleSheet();
sheet.replaceSync(`
  .diff-del { background: #fde8e8; color: var(--reject, #c62828); text-decoration: line-through; }
  .diff-ins { background: #e9f6ec; color: var(--accept, #1a7f37); text-decoration: underline; }
`);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

const MAX_WORDS = 3000;  // the table below is words x words

const textOf = (version) => (version && typeof version === "object" ? String(version.text ?? "") : String(version ?? ""));

/** [op, words] runs turning `before` into `after`: op is "=", "-" (removed) or "+" (added). */
export function wordDiff(before, after) {
  const a = before.split(/(\s+)/), b = after.split(/(\s+)/);
  // lcs[i][j]: the longest common run of a[i:] and b[j:]
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const runs = [];
  const push = (op, word) => {
    if (runs.length && runs[runs.length - 1][0] === op) runs[runs.length - 1][1] += word;
    else runs.push([op, word]);
  };
  let i = 0, j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { push("=", a[i]); i++; j++; }
    else if (lcs[i + 1][j] >= lcs[i][j + 1]) push("-", a[i++]);
    else push("+", b[j++]);
  }
  while (i < a.length) push("-", a[i++]);
  while (j < b.length) push("+", b[j++]);
  return runs;
}

export default {
  render(task, root) {
    const before = textOf(task.reject), after = textOf(task.accept);
    if (before.split(/\s+/).length + after.split(/\s+/).length > MAX_WORDS) {
      root.append(versionBox(task.accept, "accept", "accept (a)"), versionBox(task.reject, "reject", "reject (x)"));
      return { key: () => false, destroy() {} };
    }
    const box = textBox("card-text diff-text");
    for (const [op, words] of wordDiff(before, after)) {
      if (op === "=") { box.append(words); continue; }
      const mark = document.createElement(op === "+" ? "ins" : "del");
      mark.className = op === "+" ? "diff-ins" : "diff-del";
      mark.textContent = words;
      box.append(mark);
    }
    root.append(box);
    return { key: () => false, destroy() {} };
  },
};
