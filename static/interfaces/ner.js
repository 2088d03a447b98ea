// `ner` / `binary`: a text with its highlighted span (or a label on the whole text), yes or no.
import { drawSpans, labelHeading, scrollToFirstSpan, textBox } from "../core/tokens.js";

export const VERIFY_PROMPT = "Are these all of its entities, and all right?";

export default {
  render(task, root, ctx) {
    const spans = task.spans || [];
    if (task._question === "verify") {
      root.append(labelHeading(spans.length ? VERIFY_PROMPT : "Does this sentence have no entities?"));
    } else if (task.label && !spans.length) {
      root.append(labelHeading(task.label));
    }
    root.append(drawSpans(textBox("card-text"), task.text || "", spans, ctx.config.labels));
    scrollToFirstSpan(root);
    return { key: () => false, destroy() {} };
  },
};
