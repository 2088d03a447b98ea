// `ner_manual` (and, with overlaps allowed, `spans_manual`): the text as tokens, a label bar on
// top, spans added by mouse or keyboard and removed by a click. Spans snap to token boundaries
// and carry character offsets and inclusive token offsets, as Prodigy stores them.
import { labelColor, scrollToFirstSpan, textBox, tokenize } from "../core/tokens.js";

const OVERLAP_REFUSED = "That overlaps a span already there: click the span to remove it first.";

// Spans as the view keeps them: sorted, each with character and token offsets.
function normalize(spans, tokens) {
  const out = [];
  for (const span of spans || []) {
    let { token_start: ts, token_end: te } = span;
    if (typeof ts !== "number" || typeof te !== "number") {
      ts = tokens.findIndex((t) => t.end > span.start);
      te = tokens.length - 1 - [...tokens].reverse().findIndex((t) => t.start < span.end);
    }
    if (ts < 0 || te < ts || te >= tokens.length) continue;
    out.push({ ...span, start: tokens[ts].start, end: tokens[te].end, token_start: ts, token_end: te });
  }
  return sortSpans(out);
}

function sortSpans(spans) {
  return spans.sort((a, b) => a.token_start - b.token_start || b.token_end - a.token_end);
}

// Stacking levels for overlapping spans: each span the lowest level free along its tokens.
function levels(spans) {
  const taken = [];
  return spans.map((span) => {
    let level = 0;
    while (taken.some((t) => t.level === level && t.span.token_start <= span.token_end && span.token_start <= t.span.token_end)) level += 1;
    taken.push({ span, level });
    return level;
  });
}

export function manualView({ overlap }) {
  return {
    render(task, root, ctx) {
      const text = task.text || "";
      const tokens = task.tokens && task.tokens.length ? task.tokens : tokenize(text);
      const fromSpans = [...new Set((task.spans || []).map((s) => s.label).filter(Boolean))];
      const labels = ctx.config.labels && ctx.config.labels.length ? ctx.config.labels : fromSpans;
      let spans = normalize(task.spans, tokens);
      let active = 0;
      let selection = null;  // [first, last] token
      let cursor = null;     // the keyboard's token
      let keyAnchor = null;  // where shift+arrows extend from
      let clickAnchor = null;  // {token, span}: the span a plain click added, for shift-click
      let added = null;      // the span just added: a number key right after it relabels it
      let byKeys = false;    // show the token cursor only while the keyboard is used
      let drag = null;

      const bar = document.createElement("div");
      bar.className = "label-bar";
      const box = textBox(`card-text manual-text${overlap ? " stacked" : ""}`);
      const message = document.createElement("div");
      message.className = "view-message";
      message.setAttribute("role", "status");
      root.append(bar, box, message);

      function say(text) { message.textContent = text || ""; }

      function commit() {
        spans = sortSpans(spans);
        ctx.change({ spans: spans.map((s) => ({ ...s })) });
        draw();
      }

      function drawLabels() {
        bar.replaceChildren();
        bar.hidden = ctx.readonly || !labels.length;
        labels.forEach((label, i) => {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "label-btn";
          button.style.setProperty("--span-color", labelColor(label, labels));
          button.setAttribute("aria-pressed", String(i === active));
          if (i < 9) {
            const key = document.createElement("kbd");
            key.textContent = String(i + 1);
            button.append(key);
          }
          const name = document.createElement("span");
          name.textContent = label;
          name.dir = "auto";
          button.append(name);
          button.addEventListener("click", () => { button.blur(); setActive(i); });
          bar.append(button);
        });
      }

      function setActive(i) {
        active = i;
        drawLabels();
      }

      // The text between token i and the next, exactly as written (or one space for `ws`).
      function gap(i) {
        const next = tokens[i + 1];
        const here = tokens[i];
        if (typeof here.end === "number" && text) return text.slice(here.end, next ? next.start : text.length);
        return here.ws ? " " : "";
      }

      function tokenEl(i) {
        const el = document.createElement("span");
        el.className = "tok";
        el.dataset.i = String(i);
        el.textContent = tokens[i].text;
        return el;
      }

      function barsFor(el, covering, level, color) {
        for (const index of covering) {
          const line = document.createElement("span");
          line.className = "span-bar";
          line.style.setProperty("--level", String(level[index]));
          line.style.setProperty("--span-color", color(index));
          el.append(line);
        }
      }

      function draw() {
        box.replaceChildren();
        if (tokens.length && tokens[0].start > 0) box.append(document.createTextNode(text.slice(0, tokens[0].start)));
        const color = (index) => labelColor(spans[index].label, labels);
        if (overlap) {
          const level = levels(spans);
          const covers = (index, i) => spans[index].token_start <= i && i <= spans[index].token_end;
          const all = spans.map((_, index) => index);
          for (let i = 0; i < tokens.length; i++) {
            const el = tokenEl(i);
            const on = all.filter((index) => covers(index, i));
            if (on.length) el.classList.add("in-span");
            barsFor(el, on, level, color);
            box.append(el);
            for (const index of all.filter((index) => spans[index].token_end === i)) {
              const tag = document.createElement("span");
              tag.className = "span-tag";
              tag.dataset.span = String(index);
              tag.dataset.label = spans[index].label || "";
              tag.style.setProperty("--span-color", color(index));
              if (!ctx.readonly) tag.title = "Click to remove this span";
              box.append(tag);
            }
            const between = document.createElement("span");
            between.className = "ws";
            between.textContent = gap(i);
            barsFor(between, on.filter((index) => covers(index, i + 1)), level, color);
            box.append(between);
          }
        } else {
          for (let i = 0; i < tokens.length;) {
            const index = spans.findIndex((s) => s.token_start === i);
            if (index < 0) {
              box.append(tokenEl(i), document.createTextNode(gap(i)));
              i += 1;
              continue;
            }
            const span = spans[index];
            const mark = document.createElement("mark");
            mark.className = "span";
            mark.dataset.span = String(index);
            mark.dataset.label = span.label || "";
            mark.style.setProperty("--span-color", color(index));
            if (!ctx.readonly) mark.title = "Click to remove this span";
            for (let j = span.token_start; j <= span.token_end; j++) {
              const el = tokenEl(j);
              el.classList.add("in-span");
              mark.append(el);
              if (j < span.token_end) mark.append(document.createTextNode(gap(j)));
            }
            box.append(mark, document.createTextNode(gap(span.token_end)));
            i = span.token_end + 1;
          }
        }
        showSelection();
      }

      function showSelection() {
        for (const el of box.querySelectorAll(".tok")) {
          const i = Number(el.dataset.i);
          el.classList.toggle("selected", !!selection && selection[0] <= i && i <= selection[1]);
          el.classList.toggle("cursor", byKeys && i === cursor);
          el.classList.toggle("added", !!added && added.token_start <= i && i <= added.token_end);
        }
      }

      function select(a, b) {
        selection = a === null ? null : [Math.min(a, b), Math.max(a, b)];
        showSelection();
      }

      function remove(index) {
        spans.splice(index, 1);
        added = null;
        clickAnchor = null;
        say("");
        commit();
      }

      // Add tokens a..b as a span with the active label; null (and a message) when refused.
      // Only a span added with the mouse can be relabelled by the next number key: on the
      // keyboard the label is picked first.
      function add(a, b, byMouse = false) {
        select(null);
        const label = labels[active];
        if (!label) {
          say("No labels to choose from: start the recipe with --label.");
          return null;
        }
        const span = { start: tokens[a].start, end: tokens[b].end, token_start: a, token_end: b, label };
        if (spans.some((s) => s.token_start === a && s.token_end === b && s.label === label)) return null;
        if (!overlap && spans.some((s) => s.token_start <= b && a <= s.token_end)) {
          say(OVERLAP_REFUSED);
          return null;
        }
        say("");
        spans.push(span);
        added = byMouse ? span : null;
        commit();
        return span;
      }

      function tokenAt(target) {
        const el = target.closest && target.closest(".tok");
        return el && box.contains(el) ? Number(el.dataset.i) : null;
      }

      function onDown(event) {
        if (event.button !== 0) return;
        const tag = event.target.closest(".span-tag, mark.span");
        const i = tokenAt(event.target);
        if (tag && (tag.classList.contains("span-tag") || i === null)) {
          event.preventDefault();
          remove(Number(tag.dataset.span));
          return;
        }
        if (i === null) return;
        event.preventDefault();  // no native text selection while picking tokens
        added = null;
        byKeys = false;
        cursor = i;
        keyAnchor = i;
        if (event.shiftKey && clickAnchor) {
          // Click, then shift-click: the span the click added grows to this token.
          const { token, span } = clickAnchor;
          clickAnchor = null;
          const at = spans.indexOf(span);
          if (at >= 0) spans.splice(at, 1);
          if (!add(Math.min(token, i), Math.max(token, i), true) && at >= 0) {
            spans.push(span);
            commit();
          }
          return;
        }
        drag = { from: i, to: i };
        select(i, i);
      }

      function onOver(event) {
        if (!drag) return;
        const i = tokenAt(event.target);
        if (i === null) return;
        drag.to = i;
        select(drag.from, i);
      }

      function onUp() {
        if (!drag) return;
        const { from, to } = drag;
        drag = null;
        if (from === to && !overlap) {
          const inside = spans.findIndex((s) => s.token_start <= from && from <= s.token_end);
          if (inside >= 0) {
            remove(inside);
            return;
          }
        }
        const span = add(Math.min(from, to), Math.max(from, to), true);
        clickAnchor = span && from === to ? { token: from, span } : null;
      }

      function rtl() {
        return getComputedStyle(box).direction === "rtl";
      }

      function key(event) {
        if (ctx.readonly) return false;
        if (/^[1-9]$/.test(event.key)) {
          const i = Number(event.key) - 1;
          if (i >= labels.length) return true;
          setActive(i);
          if (added && spans.includes(added) && added.label !== labels[i]) {
            added.label = labels[i];
            commit();
          }
          return true;
        }
        if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
          // Arrows move the way they point: in right-to-left text, left is the next token.
          const step = (event.key === "ArrowRight" ? 1 : -1) * (rtl() ? -1 : 1);
          added = null;
          byKeys = true;
          if (cursor === null) cursor = step > 0 ? 0 : tokens.length - 1;
          else cursor = Math.max(0, Math.min(tokens.length - 1, cursor + step));
          if (!event.shiftKey || keyAnchor === null) keyAnchor = cursor;
          select(keyAnchor, cursor);
          const el = box.querySelector(`.tok[data-i="${cursor}"]`);
          if (el) el.scrollIntoView({ block: "nearest", inline: "nearest" });
          return true;
        }
        if (event.key === "Enter") {
          if (selection) add(selection[0], selection[1]);
          return true;
        }
        if (event.key === "Escape") {
          added = null;
          select(null);
          say("");
          return true;
        }
        return false;
      }

      drawLabels();
      draw();
      scrollToFirstSpan(root);
      if (!ctx.readonly) {
        ctx.change({ spans: spans.map((s) => ({ ...s })) });  // stored with both kinds of offsets
        box.addEventListener("mousedown", onDown);
        box.addEventListener("mouseover", onOver);
        document.addEventListener("mouseup", onUp);
      }
      return {
        key,
        destroy() { document.removeEventListener("mouseup", onUp); },
      };
    },
  };
}

export default manualView({ overlap: false });
