"""The page's interfaces (a task's ``view_id``), named once for the recipes that offer a choice of them."""

from __future__ import annotations

# Every interface the page has (static/interfaces/).
VIEW_IDS = ("binary", "ner", "classification", "text", "ner_manual", "spans_manual", "choice", "html", "blocks",
            "review", "text_input", "image", "audio", "compare", "diff", "spans")
# Interfaces whose answer is a yes or no to a question fixed in advance (the others edit the answer).
YES_NO_VIEWS = ("ner", "binary", "classification", "text", "html", "image", "audio", "compare", "diff", "spans")
