"""Memory of the real server on small and huge sources: streams are lazy, so RSS must not grow with the file.

Writes JSONL sources of 10,000 and 1,000,000 lines, serves each with `binanno mark`, answers
``--answers`` questions over HTTP, and prints the server's peak RSS and time to the first question.

    python bench/bench_memory.py
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(source: Path, answers: int, tmp: Path) -> tuple[float, float, float]:
    port = free_port()
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "binanno", "mark", "mem", str(source), "--port", str(port),
                             "--db", str(tmp / f"{source.stem}.db")], env={**os.environ, "BINANNO_HOME": str(tmp)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            httpx.get(url + "/project", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    client = httpx.Client(base_url=url, timeout=60)
    tasks = client.post("/get_session_questions", json={}).json()["tasks"]
    first = time.time() - started
    done = 0
    while done < answers and tasks:
        client.post("/give_answers", json={"answers": [{**t, "answer": "accept"} for t in tasks]})
        done += len(tasks)
        tasks = client.post("/get_session_questions", json={}).json()["tasks"]
    rss = peak_rss_mb(proc.pid)
    proc.send_signal(2)
    proc.wait(60)
    return first, rss, source.stat().st_size / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=500)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    print("| source lines | file MB | first question s | server peak RSS MB |")
    print("|---|---|---|---|")
    for lines in (10_000, 1_000_000):
        source = tmp / f"source_{lines}.jsonl"
        with source.open("w") as f:
            for i in range(lines):
                f.write(json.dumps({"text": f"Example number {i} about Acme Corp and Globex.", "spans": [{"start": 0, "end": 7, "label": "X"}]}) + "\n")
        first, rss, size = run(source, args.answers, tmp)
        print(f"| {lines:,} | {size:.0f} | {first:.2f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
