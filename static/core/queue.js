// Questions not yet shown: fetched a batch at a time, each question once per page lifetime.
import { post } from "./api.js";

export class Queue {
  constructor({ batchSize, session, onReply, onMessage, onArrived }) {
    this.items = [];          // window.binanno.queue: the questions waiting, next first
    this.seen = new Set();    // task hashes shown in this page's lifetime
    this.batchSize = batchSize;
    this.session = session;   // () => the session id or null
    this.onReply = onReply;
    this.onMessage = onMessage;
    this.onArrived = onArrived;
    this.fetching = false;
    this.exhausted = false;
    this.retryDelay = 500;
  }

  get low() { return this.items.length < Math.ceil(this.batchSize / 2); }

  shift() {
    const task = this.items.shift() || null;
    if (this.low) this.fetch();
    return task;
  }

  unshift(...tasks) { this.items.unshift(...tasks); }

  async fetch() {
    if (this.fetching || this.exhausted) return;
    this.fetching = true;
    let again = 0;
    try {
      const reply = await post("/get_session_questions", { session_id: this.session() });
      this.onReply(reply);
      let fresh = 0;
      for (const task of reply.tasks || []) {
        if (this.seen.has(task._task_hash)) continue;
        this.seen.add(task._task_hash);
        this.items.push(task);
        fresh += 1;
      }
      // None now, but other sessions hold some that come back after resend_after: ask again later.
      const waiting = reply.status && reply.status.exhausted === false;
      if (!(reply.tasks || []).length && !waiting) this.exhausted = true;
      if (reply.status && reply.status.error) this.onMessage(reply.status.error, true);
      this.retryDelay = 500;
      // Only re-sent questions came back (this page has them already): ask again a little later.
      if (!fresh && !this.exhausted) again = (reply.tasks || []).length ? 1000 : 5000;
    } catch (error) {
      this.onMessage(`Can't load questions (${error.message}); retrying…`, true, "load");
      again = this.retryDelay;
      this.retryDelay = Math.min(this.retryDelay * 2, 10000);
    } finally {
      this.fetching = false;
    }
    if (again) setTimeout(() => this.fetch(), again);
    this.onArrived();
  }
}
