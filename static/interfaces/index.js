// The registry of interfaces: a task's `_view_id`, else the recipe's `view_id`, picks one.
import binary from "./binary.js";
import classification from "./classification.js";
import ner from "./ner.js";
import ner_manual from "./ner_manual.js";
import spans_manual from "./spans_manual.js";
import text from "./text.js";

export const VIEWS = { ner, binary, classification, text, ner_manual, spans_manual };
