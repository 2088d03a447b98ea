// `classification`: the label above the text, yes or no on it.
import { drawSpans, labelHeading, scrollToFirstSpan, textBox } from "../core/tokens.js";

export default {
  render(task, root, ctx) {
    if (task.label) root.append(labelHeading(task.label));
    root.append(drawSpans(textBox("card-text"), task.text || "", task.spans || [], ctx.config.labels));
    scrollToFirstSpan(root);
    return { key: () => false, destroy() {} };
  },
};
