// Answers held client-side. The newest `keep` answers are never sent on their own, so undo
// reaches back that far whatever the batch boundaries; older ones go a batch at a time.
// Resending is safe: the server stores a task once per session.
import { post } from "./api.js";

export class Outbox {
  constructor({ batchSize, keep, session, onSent, onRefused, onMessage }) {
    this.items = [];          // window.binanno.outbox: answered, not yet stored, oldest first
    this.batchSize = batchSize;
    this.keep = keep;
    this.session = session;
    this.onSent = onSent;
    this.onRefused = onRefused;
    this.onMessage = onMessage;
    this.sending = null;      // the promise of the request in flight
    this.inFlight = new Set();
    this.retryDelay = 500;
    this.failed = false;      // the last attempt failed: the next success says so is over
  }

  add(task) {
    this.items.push(task);
    this.sendOlder();
  }

  // Once a batch's worth is older than the undoable ones, send those (one request at a time).
  sendOlder() {
    const ready = this.items.length - this.keep;
    if (!this.sending && ready >= this.batchSize) this.send(ready);
  }

  // The newest answer that is not on its way to the server, taken out; null when there is none.
  undo() {
    const last = this.items[this.items.length - 1];
    if (!last || this.inFlight.has(last)) return null;
    return this.items.pop();
  }

  // Send the oldest `count` answers (all of them by default); resolves when that request ends.
  send(count) {
    if (this.sending) return this.sending.then(() => (this.items.length ? this.send(count) : undefined));
    if (!this.items.length) return Promise.resolve();
    const batch = this.items.slice(0, count === undefined ? this.items.length : count);
    for (const task of batch) this.inFlight.add(task);
    this.sending = post("/give_answers", { answers: batch, session_id: this.session() })
      .then((reply) => {
        this.items = this.items.filter((task) => !batch.includes(task));
        this.retryDelay = 500;
        if (this.failed) this.onMessage("Saved: the connection is back.", false, "save");
        this.failed = false;
        this.onSent(batch, reply);
        setTimeout(() => this.sendOlder(), 0);
      })
      .catch((error) => this._failed(batch, error))
      .finally(() => {
        for (const task of batch) this.inFlight.delete(task);
        this.sending = null;
      });
    return this.sending;
  }

  _failed(batch, error) {
    if (error.status === 400 && error.refused && error.refused.length) {
      // Nothing of this request was stored: take the refused answers out, send the others again.
      const refused = [];
      for (const item of error.refused) {
        const task = batch[item.index];
        if (task) refused.push({ task, error: item.error });
      }
      this.items = this.items.filter((task) => !refused.some((r) => r.task === task));
      const others = batch.length - refused.length;
      this.onRefused(refused, error.message);
      if (others > 0) setTimeout(() => this.send(others), 0);
    } else if (error.status === 400) {
      this.onMessage(`The server refused these answers: ${error.message}`, true, "save");
    } else {
      this.failed = true;
      this.onMessage(`Can't save answers (${error.message}); they're kept and will be retried.`, true, "save");
      const count = batch.length;
      setTimeout(() => this.send(count), this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 10000);
    }
  }

  // Leaving the page: hand everything held to the browser, which sends it even as the tab closes.
  flush() {
    if (!this.items.length || !navigator.sendBeacon) return [];
    const body = JSON.stringify({ answers: this.items, session_id: this.session() });
    if (!navigator.sendBeacon("/give_answers", new Blob([body], { type: "application/json" }))) return [];
    const sent = this.items;
    this.items = [];
    return sent;
  }
}
