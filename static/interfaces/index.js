// The registry of interfaces: a task's `_view_id`, else the recipe's `view_id`, picks one.
import audio from "./audio.js";
import binary from "./binary.js";
import blocks from "./blocks.js";
import choice from "./choice.js";
import classification from "./classification.js";
import compare from "./compare.js";
import diff from "./diff.js";
import html from "./html.js";
import image from "./image.js";
import ner from "./ner.js";
import ner_manual from "./ner_manual.js";
import review from "./review.js";
import spans from "./spans.js";
import spans_manual from "./spans_manual.js";
import text from "./text.js";
import text_input from "./text_input.js";

export const VIEWS = { ner, binary, classification, text, ner_manual, spans_manual, choice, html, blocks, review, text_input, image, audio, compare, diff, spans };
