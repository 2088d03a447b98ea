"""A custom recipe in Prodigy's documented style with the old tuple arguments (bench/prodigy_compat.py's test)."""

import prodigy
from prodigy import get_stream, set_hashes


@prodigy.recipe(
    "compat.tuple",
    dataset=("The dataset to save to", "positional", None, str),
    source=("The source data as a JSONL file", "positional", None, str),
    label=("The label to ask about", "option", "l", str),
)
def compat_tuple(dataset, source, label="POSITIVE"):
    """Ask whether each text is LABEL."""
    # Add the label to each example and set the hashes again, since the task changed
    stream = (set_hashes({**eg, "label": label}, overwrite=True) for eg in get_stream(source))
    return {
        "dataset": dataset,  # Name of dataset to save annotations
        "stream": stream,  # Incoming stream of examples
        "view_id": "classification",  # Annotation interface to use
    }
