// `binary`: the same card as `ner`; it shows whichever a task has, spans or a label.
export { default } from "./ner.js";
