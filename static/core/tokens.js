// Drawing a text with spans, shared by every interface. Task text only ever goes in through
// textContent; a label is drawn by CSS from a data attribute, so copying the text leaves it out.

const PALETTE = ["#ffe184", "#c5e8b7", "#c9dcff", "#ffcfc2", "#e4c9ff", "#b9f0ea", "#ffd8a8", "#e8e8a0", "#f7c6e0"];

// A colour per label: by its place in the recipe's labels, else by a hash of its name.
export function labelColor(label, labels) {
  let index = (labels || []).indexOf(label);
  if (index < 0) {
    index = 0;
    for (const ch of String(label || "")) index = (index * 31 + ch.charCodeAt(0)) >>> 0;
  }
  return PALETTE[index % PALETTE.length];
}

// An element for task text: `dir="auto"` lays Arabic or Hebrew out right to left.
export function textBox(className, tag = "div") {
  const el = document.createElement(tag);
  el.className = className;
  el.dir = "auto";
  return el;
}

// A highlighted span with its label; the label is CSS generated content (see app.css).
export function spanMark(text, label, labels) {
  const mark = document.createElement("mark");
  mark.className = "span";
  mark.textContent = text;
  if (label) {
    mark.dataset.label = label;
    mark.style.setProperty("--span-color", labelColor(label, labels));
  }
  return mark;
}

// `text` into `box` with its (non-overlapping) spans highlighted; an overlapping span is skipped.
export function drawSpans(box, text, spans, labels) {
  const sorted = (spans || []).slice().sort((a, b) => a.start - b.start);
  let position = 0;
  for (const span of sorted) {
    if (span.start < position || span.end <= span.start) continue;
    box.append(document.createTextNode(text.slice(position, span.start)));
    box.append(spanMark(text.slice(span.start, span.end), span.label, labels));
    position = span.end;
  }
  box.append(document.createTextNode(text.slice(position)));
  return box;
}

// Long texts: bring the first span into view once the card is laid out.
export function scrollToFirstSpan(root) {
  requestAnimationFrame(() => {
    const first = root.querySelector(".span, .tok.in-span");
    if (first) first.scrollIntoView({ block: "center", inline: "nearest" });
  });
}

// Tokens for a task that has none: words and single punctuation marks, with their whitespace.
export function tokenize(text) {
  const tokens = [];
  const pattern = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;
  let match;
  while ((match = pattern.exec(text)) !== null) {
    const end = match.index + match[0].length;
    tokens.push({ text: match[0], start: match.index, end, id: tokens.length, ws: /\s/.test(text[end] || "") });
  }
  return tokens;
}

// A label heading above the text (classification, verify questions).
export function labelHeading(text) {
  const el = textBox("card-label");
  el.textContent = text;
  return el;
}
