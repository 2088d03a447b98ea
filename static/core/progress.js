// The progress bar and the counts line. Counts include the answers still held in the page, in
// every number alike, so the line never disagrees with itself.

export class Progress {
  constructor({ fill, counts, track, enabled }) {
    this.fill = fill;
    this.counts = counts;
    this.track = track;
    this.enabled = enabled;  // the recipe gives a progress estimate or a total
    this.shown = 0;          // the bar never moves backwards, even if an estimate does
  }

  render({ status, progress, total, unsent, session }) {
    status = status || {};
    const held = { accept: 0, reject: 0, ignore: 0 };
    for (const task of unsent) if (task.answer in held) held[task.answer] += 1;
    const answered = (status.answered || 0) + unsent.length;
    let fraction = null;
    if (typeof progress === "number") fraction = progress;
    else if (typeof total === "number" && total > 0) fraction = Math.min(1, answered / total);
    if (fraction !== null) this.shown = Math.max(this.shown, fraction);
    this.track.hidden = !this.enabled && fraction === null;
    this.fill.style.width = `${Math.round(this.shown * 100)}%`;
    this.track.setAttribute("aria-valuenow", String(Math.round(this.shown * 100)));
    const parts = [];
    if (typeof total === "number") parts.push(`answered ${answered} / ${total}`);
    if (fraction !== null) parts.push(`progress ${Math.round(this.shown * 100)}%`);
    else if (this.enabled && typeof total !== "number") parts.push("progress: estimating…");
    parts.push(`this session ${(status.session_answered || 0) + unsent.length}`);
    parts.push(`accept ${(status.accept || 0) + held.accept} · reject ${(status.reject || 0) + held.reject} · ignore ${(status.ignore || 0) + held.ignore}`);
    if (typeof status.model_accuracy === "number") {
      parts.push(`model right on last ${status.model_accuracy_n}: ${Math.round(status.model_accuracy * 100)}%`);
    }
    if (unsent.length) parts.push(`${unsent.length} unsaved`);
    this.counts.textContent = parts.join("  ·  ");
  }
}
