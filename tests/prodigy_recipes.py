"""Recipes written as Prodigy's docs write them (only the imports changed), loaded with `-F` by the tests."""

from __future__ import annotations

from typing import Any

import binanno as prodigy
from binanno.components.loaders import JSONL, AudioServer, ImageServer


@prodigy.recipe(
    "image.ask",
    dataset=("The dataset to save to", "positional", None, str),
    source=("A folder of images", "positional", None, str),
)
def image_ask(dataset: str, source: str) -> dict[str, Any]:
    """Accept or reject each image of a folder."""
    stream = ImageServer(source)
    return {"dataset": dataset, "stream": stream, "view_id": "image"}


@prodigy.recipe(
    "audio.ask",
    dataset=("The dataset to save to", "positional", None, str),
    source=("A folder of audio files", "positional", None, str),
)
def audio_ask(dataset: str, source: str) -> dict[str, Any]:
    """Accept or reject each audio file of a folder."""
    stream = AudioServer(source)
    return {"dataset": dataset, "stream": stream, "view_id": "audio"}


@prodigy.recipe(
    "label.ask",
    dataset=("The dataset to save to", "positional", None, str),
    source=("A JSONL file of texts", "positional", None, str),
    label=("The label to ask about", "option", "l", str),
)
def label_ask(dataset: str, source: str, label: str = "YES") -> dict[str, Any]:
    """Ask whether LABEL applies to each text: the label is added after loading, without rehashing."""

    def add_label(stream: Any) -> Any:
        for eg in stream:
            eg["label"] = label
            yield eg

    return {"dataset": dataset, "stream": add_label(JSONL(source)), "view_id": "classification"}


# Prodigy's docs' first custom recipe ("cats-recipe"), as written there but for the import lines.
@prodigy.recipe(
    "cats-recipe",
    dataset=("The dataset to save to", "positional", None, str),
    file_path=("Path to texts", "positional", None, str),
)
def custom_recipe(dataset: str, file_path: str) -> dict[str, Any]:
    stream = JSONL(file_path)  # load in the JSONL file
    stream = add_options(stream)  # add options to each task

    return {
        "dataset": dataset,
        "stream": stream,
        "view_id": "choice",
    }


def add_options(stream: Any) -> Any:
    options = [
        {"id": "FELINE", "text": "😺 Feline"},
        {"id": "CANINE", "text": "🐶 Canine"},
        {"id": "BOVINE", "text": "🐮 Bovine"},
    ]
    for task in stream:
        task["options"] = options
        yield task
