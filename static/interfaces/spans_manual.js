// `spans_manual`: `ner_manual` with overlapping spans allowed (spaCy's span categorizer),
// drawn as stacked bars under the tokens so that each stays visible.
import { manualView } from "./ner_manual.js";

export default manualView({ overlap: true });
