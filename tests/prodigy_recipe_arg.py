"""A custom recipe written with today's Prodigy names that binanno already has (bench/prodigy_compat.py's test)."""

from prodigy.components.loaders import get_stream
from prodigy.core import Arg, recipe


@recipe(
    "compat.arg",
    dataset=Arg(help="The dataset to save to"),
    source=Arg(help="The source data as a JSONL file"),
)
def compat_arg(dataset: str, source: str):
    """Pick one of two options for each text."""
    options = [{"id": "A", "text": "A"}, {"id": "B", "text": "B"}]
    # One multiple-choice question per example
    stream = ({**eg, "options": options} for eg in get_stream(source))
    return {"dataset": dataset, "stream": stream, "view_id": "choice", "config": {"choice_style": "single"}}
