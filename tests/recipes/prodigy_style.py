"""Custom recipes written the way Prodigy's docs and its users write them; only the imports say binanno.

tests/test_prodigy_recipes.py serves them through the real CLI and server.
"""

import spacy

import binanno as prodigy
from binanno.components.preprocess import add_tokens
from binanno.components.sorters import prefer_uncertain
from binanno.components.stream import get_stream
from binanno.core import Arg, recipe_args
from binanno.models.matcher import PatternMatcher
from binanno.models.textcat import TextClassifier
from binanno.util import combine_models, log, split_string


@prodigy.recipe(
    "ner.manual-custom",
    dataset=Arg(help="Dataset to save annotations to"),
    source=Arg(help="Data to annotate (JSONL)"),
    label=Arg("--label", "-l", help="Comma-separated label(s) to annotate", converter=split_string),
    lang=Arg("--lang", help="Language of the tokenizer"),
)
def ner_manual_custom(dataset: str, source: str, label: list = None, lang: str = "en"):
    """Highlight entity spans by hand, with a blank tokenizer."""
    log("RECIPE: Starting recipe ner.manual-custom", locals())
    nlp = spacy.blank(lang)
    # Load the stream and tokenize it, so the interface can snap selections to tokens
    stream = get_stream(source)
    stream.apply(add_tokens, nlp=nlp, stream=stream)

    def update(answers):
        # Called with each batch of answers the server receives
        print(f"Received {len(answers)} annotations!")

    return {
        "dataset": dataset,  # save the answers to this dataset
        "view_id": "ner_manual",  # the manual span interface
        "stream": stream,
        "update": update,
        "config": {"labels": label},  # the labels shown above the text
    }


@prodigy.recipe(
    "textcat.teach-custom",
    dataset=recipe_args["dataset"],
    spacy_model=recipe_args["spacy_model"],
    source=("The source data as a JSONL file", "positional", None, str),
    label=("One or more comma-separated labels", "option", "l", split_string),
    patterns=("Optional match patterns", "option", "p", str),
    exclude=("Names of datasets to exclude", "option", "e", split_string),
)
def textcat_teach_custom(dataset, spacy_model, source, label=None, patterns=None, exclude=None):
    """Annotate texts with a label, the model and the patterns in the loop."""
    nlp = spacy.load(spacy_model)
    model = TextClassifier(nlp, label=label)
    stream = get_stream(source)
    if patterns is None:
        predict = model
        update = model.update
    else:
        # Label the whole text with the pattern's label, not the matched span
        matcher = PatternMatcher(model.nlp, prior_correct=5.0, prior_incorrect=5.0, label_span=False, label_task=True)
        matcher = matcher.from_disk(patterns)
        predict, update = combine_models(model, matcher)
    # Ask about the most uncertain scores first
    stream = prefer_uncertain(predict(stream))
    return {
        "view_id": "classification",
        "dataset": dataset,
        "stream": stream,
        "exclude": exclude,
        "update": update,
        "config": {"lang": nlp.lang},
    }


@prodigy.recipe(
    "show-args",
    dataset=Arg(help="Dataset"),
    label=Arg("--label", "-l", help="Labels", converter=split_string),
    view_id=Arg("--view-id", "-v", help="Interface"),
    batch_size=Arg("--batch-size", "-b", help="Batch size"),
    verbose=Arg("--verbose", "-V", help="Say more"),
    exclude=recipe_args["exclude"],
    unsegmented=recipe_args["unsegmented"],
    limit=("How many", "option", "n", int),
)
def show_args(dataset: str, label: list = None, view_id: str = "text", batch_size: int = 10, verbose: bool = False,
              exclude=None, unsegmented=False, limit=3):
    """Print the arguments as parsed, and serve nothing."""
    import json

    print(json.dumps({"dataset": dataset, "label": label, "view_id": view_id, "batch_size": batch_size,
                      "verbose": verbose, "exclude": exclude, "unsegmented": unsegmented, "limit": limit}))
