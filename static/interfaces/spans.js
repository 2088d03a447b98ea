// `spans` (Prodigy's read-only view of a task's spans, as error analyses show gold and predicted ones
// together): `spans_manual`'s drawing, overlapping spans as stacked bars, with nothing to edit; the
// answer is accept or reject.
import spansManual from "./spans_manual.js";

export default {
  render(task, root, ctx) {
    return spansManual.render(task, root, { ...ctx, readonly: true });
  },
};
