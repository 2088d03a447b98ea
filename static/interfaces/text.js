// `text`: the text alone.
import { textBox } from "../core/tokens.js";

export default {
  render(task, root) {
    const box = textBox("card-text");
    box.textContent = task.text || "";
    root.append(box);
    return { key: () => false, destroy() {} };
  },
};
