"""ner.teach: the model proposes entities, the annotator says yes or no, the model learns."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from binanno import Arg, get_stream, recipe, split_string
from binanno.components.preprocess import remove_tokens  # noqa: F401 (Prodigy's prodigy.recipes.ner.remove_tokens)
from binanno.config import resolve
from binanno.learning.guard import served_name
from binanno.progress import LossProgress
from binanno.types import Components, Task

NER_CONFIG = {"explore": 0.3}


@recipe(
    "ner.teach",
    dataset=Arg(help="Dataset to save answers to"),
    model=Arg(help="spaCy pipeline name or path, blank:LANG for a new NER, or hf:PATH for a local Hugging Face encoder"),
    source=Arg(help="Input file (JSONL, JSON, CSV or TXT), or - for stdin"),
    label=Arg(help="Comma-separated labels to annotate (added to the model if new)", kind="option", short="l", converter=split_string),
    patterns=Arg(help="JSONL file of token or phrase patterns (spaCy EntityRuler format) that propose candidates", kind="option", short="pt"),
    exclude=Arg(help="Skip questions answered in these datasets (comma-separated)", kind="option", short="e", converter=split_string),
    unsegmented=Arg(help="Don't split the texts into sentences", kind="flag", short="U"),
    output=Arg(help="Directory to save the updated model to when the server stops", kind="option", short="o"),
    sorter=Arg(help="How uncertain questions are picked: rank a look-ahead window, or filter by a moving average", kind="option", choices=("window", "ema")),
    beam_width=Arg(help="Analyses kept per sentence when scoring (setting beam_width)", kind="option", converter=int),
    beam_density=Arg(help="Drop analyses below this share of the best one's probability (setting beam_density)", kind="option", converter=float),
    loader=Arg(help="Loader to read SOURCE with, if not from its extension", kind="option", choices=("jsonl", "json", "csv", "txt")),
    question=Arg(help="Question type (setting question): binary (one span, yes/no), verify (is every entity in the sentence right?), "
                      "correct (fix the sentence's entities), label (which label is this span?), boundary (which of these "
                      "spans is the entity?) or auto (the one that finds most errors per second, per sentence)",
                 kind="option", short="q", choices=("binary", "verify", "correct", "label", "boundary", "auto")),
    anchors=Arg(help="Share of the sentences asked as verify cards, the model's surest (setting anchors)", kind="option",
                converter=float),
)
def ner_teach(dataset: str, model: str, source: str, label: list[str] | None = None, patterns: str | None = None,
              exclude: list[str] | None = None, unsegmented: bool = False, output: str | None = None,
              sorter: str | None = None, beam_width: int | None = None, beam_density: float | None = None,
              loader: str | None = None, question: str | None = None, anchors: float | None = None) -> Components:
    """Ask about the sentences and entities the model is least sure of; every answer updates it.

    Texts are split into sentences, the model scores every candidate entity (spaCy: beam
    search; hf: span probabilities from the token classifier), and each candidate becomes
    its own question, those nearest 0.5 first. Accepts and rejects update the model in
    batches, in one worker thread, while the annotator goes on. Patterns seed the cold
    start: their matches are asked even when the model gives them a low score. With
    --question verify each question is a whole sentence with the model's entities: an
    accept says they are all of them, exactly. With --question correct the sentence comes
    pre-annotated in the manual interface, to be fixed and accepted (a complete annotation).
    --question label asks which label a span is (its labels as options, or none of these);
    --question boundary which of its overlapping spans is the entity. auto picks among binary,
    label, boundary and correct per sentence, by the errors each is expected to reveal per second
    (the default; --question binary is Prodigy's classic one-span card).
    --anchors 0.1 also asks a tenth of the sentences, the model's surest, as verify cards.
    """
    from binanno.components.rescore import Rescorer
    from binanno.components.sorters import prefer_uncertain, sort_by
    from binanno.learning.choices import expand
    from binanno.learning.questions import QuestionPlanner
    from binanno.models.backends import load_ner
    from binanno.models.patterns import load_patterns

    # beam_width etc. from binanno.json / BINANNO_* unless given here. A third of the questions
    # picked at random from the look-ahead window: on BTC it found the entities the model was
    # sure (wrongly) were not names, and beat pure uncertainty (bench/README.md).
    settings = resolve(recipe_config=NER_CONFIG)
    question = question or settings["question"]
    anchors = settings["anchors"] if anchors is None else anchors
    ner = load_ner(model, label or [],
                   patterns=load_patterns(patterns) if patterns else None,
                   beam_width=beam_width or settings["beam_width"],
                   beam_density=beam_density if beam_density is not None else settings["beam_density"])
    # Read the source lazily and split it into sentences.
    stream: Iterable[Task] = get_stream(source, loader=loader)
    if not unsegmented:
        stream = sentences(ner, stream)
    plain = question == "binary" and not anchors
    if plain:
        # Score every candidate entity, then ask the most uncertain first, one span per question.
        scorer, learn = ner, ner.update
    else:
        # Questions of the chosen type, those expected to find most errors per second first (anchors before all).
        planner = QuestionPlanner(ner, question, anchors=anchors)

        def learn(answers: list[Task]) -> Any:
            planner.observe(answers)  # calibration and the miss rate, before the model changes
            return ner.update(expand(answers))  # choice cards as the yes/no answers they stand for

        scorer = planner
    # After each update the questions scored ahead are scored again, so the next ones follow the new weights.
    rescorer = Rescorer(scorer, learn)
    if plain:
        questions = prefer_uncertain(ner(stream), algorithm=sorter or settings["sorter"], explore=settings["explore"],
                                     rescore=rescorer)
    else:
        questions = sort_by(planner(stream), lambda rate: rate, sorter or settings["sorter"], explore=settings["explore"],
                            rescore=rescorer)

    def on_exit(controller: Any) -> None:
        if output:
            ner.to_disk(output)  # the weights the update guard serves (binanno.learning.guard)
            print(f"✔ Saved {served_name(ner)} to {output}")

    return {
        "dataset": dataset,  # where the answers go
        "stream": questions,  # one candidate entity per question, uncertain first
        "view_id": "ner",  # the span highlighted in its text, with its label
        "update": rescorer.update,  # learns from each batch of answers, off the request path
        "exclude": exclude,  # datasets whose answered questions are skipped
        "progress": LossProgress(),  # how far the model is from converging
        "on_exit": on_exit,  # save the model with --output
        "config": {"labels": label or [], **NER_CONFIG},
    }


def sentences(ner: Any, stream: Iterable[Task]) -> Iterator[Task]:
    """Split with the model's own spaCy pipeline, or a rule-based sentencizer for other backends."""
    from binanno.components.preprocess import split_sentences

    nlp = getattr(ner, "nlp", None)
    if nlp is None:
        import spacy

        nlp = spacy.blank("en")
    return split_sentences(nlp, stream)
