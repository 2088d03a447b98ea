// The last answers, newest first, each marked once the server has stored it.

export class History {
  constructor(list, size) {
    this.list = list;
    this.size = size;
    this.entries = [];  // window.binanno.history: {task, sent}
  }

  add(task) {
    this.entries.unshift({ task, sent: false });
    this.entries.length = Math.min(this.entries.length, this.size);
    this.render();
  }

  remove(task) {
    const index = this.entries.findIndex((entry) => entry.task === task);
    if (index >= 0) this.entries.splice(index, 1);
    this.render();
  }

  markSent(tasks) {
    for (const entry of this.entries) if (tasks.includes(entry.task)) entry.sent = true;
    this.render();
  }

  render() {
    this.list.replaceChildren();
    for (const { task, sent } of this.entries) {
      const item = document.createElement("li");
      item.className = `history-item ${task.answer}${sent ? " sent" : ""}`;
      const span = (task.spans || [])[0];
      const text = task.text || "";
      const snippet = span && span.end > span.start ? text.slice(span.start, span.end) : text.slice(0, 60);
      const what = document.createElement("span");
      what.className = "history-text";
      what.dir = "auto";
      const label = span && span.label ? span.label : task.label;
      what.textContent = snippet + (label ? ` · ${label}` : "") + (task.spans && task.spans.length > 1 ? ` (+${task.spans.length - 1})` : "");
      const badge = document.createElement("span");
      badge.className = "history-answer";
      badge.textContent = task.answer + (sent ? " ✓ saved" : "");
      item.append(what, badge);
      this.list.append(item);
    }
  }
}
