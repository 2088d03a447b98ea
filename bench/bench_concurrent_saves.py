"""Save latency with many sessions saving at once: /give_answers round trips against the real server.

Starts `binanno mark` as a subprocess on 127.0.0.1 (SQLite in a temp folder, or a database in a
throwaway PostgreSQL cluster: tests/fixtures_pg.py), then runs ``--sessions`` threads, each with its
own ``?session=`` name: fetch a batch, wait ``--think`` seconds, save it (every answer), again. All
sessions start together and save ``--rounds`` batches each. Prints p50/p95/p99/max of the saves'
round trips (and of the fetches) per database, and the CPU time per fetch + save of the server and
of these client threads: on a 2-core machine a client near 1,000 ms/s (one core, its GIL) is what
the round trips wait for, whatever the server does.

    python bench/bench_concurrent_saves.py --db sqlite,postgres
    python bench/bench_concurrent_saves.py --db sqlite,postgres --client asyncio   # a client light enough to measure the server

``--client asyncio`` runs the same sessions on one asyncio loop with raw keep-alive connections
(about 0.3 ms of CPU per fetch + save, the threads 5-7 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the throwaway PostgreSQL cluster of the tests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux): a figure that a busy machine doesn't inflate."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(tmp: Path, db: str, source: Path, batch_size: int) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    profile = ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]] if os.environ.get("BENCH_PROFILE") else []
    cmd = [sys.executable, *profile, "-m", "binanno", "mark", "bench", str(source), "--port", str(port), "--host", "127.0.0.1",
           "--db", db, "--batch-size", str(batch_size)]
    server = subprocess.Popen(cmd, env={**os.environ, "BINANNO_HOME": str(tmp)}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            httpx.get(url + "/project", timeout=1)
            return server, url
        except httpx.HTTPError:
            if server.poll() is not None:
                sys.exit(server.stdout.read() if server.stdout else "server died")
            time.sleep(0.2)


def run(url: str, sessions: int, rounds: int, think: float) -> dict[str, Any]:
    """``sessions`` threads fetching and saving ``rounds`` batches each; the round trips in ms."""
    saves: list[float] = []
    fetches: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(sessions)

    def annotate(name: str) -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            start.wait()
            for _ in range(rounds):
                t0 = time.perf_counter()
                response = client.post("/get_session_questions", json={"session_id": name})
                fetched = (time.perf_counter() - t0) * 1000
                tasks = response.json()["tasks"]
                if not tasks:
                    return
                time.sleep(think)
                body = {"answers": [{**t, "answer": "accept"} for t in tasks], "session_id": name}
                t0 = time.perf_counter()
                response = client.post("/give_answers", json=body)
                saved = (time.perf_counter() - t0) * 1000
                with lock:
                    fetches.append(fetched)
                    saves.append(saved)
                    if response.status_code != 200:
                        errors.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=annotate, args=(f"bench-s{i}",)) for i in range(sessions)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"saves": saves, "fetches": fetches, "errors": errors, "seconds": time.perf_counter() - began}


def run_async(url: str, sessions: int, rounds: int, think: float) -> dict[str, Any]:
    """The same sessions as :func:`run`, on one asyncio loop with a raw HTTP/1.1 keep-alive connection
    each: a client of about a tenth of the threads' CPU, so that on a 2-core machine the round trips
    measure the server rather than the client's own GIL (real annotators' browsers are elsewhere)."""
    import asyncio

    host, port = url.rsplit("//", 1)[1].split(":")
    saves: list[float] = []
    fetches: list[float] = []
    errors: list[str] = []

    async def post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, body: Any) -> tuple[int, bytes]:
        data = json.dumps(body).encode()
        writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
        return int(lines[0].split()[1]), await reader.readexactly(length)

    async def annotate(name: str, go: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        await go.wait()
        for _ in range(rounds):
            t0 = time.perf_counter()
            _, payload = await post(reader, writer, "/get_session_questions", {"session_id": name})
            fetched = (time.perf_counter() - t0) * 1000
            tasks = json.loads(payload)["tasks"]
            if not tasks:
                break
            await asyncio.sleep(think)
            t0 = time.perf_counter()
            status, payload = await post(reader, writer, "/give_answers",
                                         {"answers": [{**t, "answer": "accept"} for t in tasks], "session_id": name})
            saves.append((time.perf_counter() - t0) * 1000)
            fetches.append(fetched)
            if status != 200:
                errors.append(f"{status} {payload[:200]!r}")
        writer.close()

    async def main() -> float:
        go = asyncio.Event()
        jobs = [asyncio.create_task(annotate(f"bench-s{i}", go)) for i in range(sessions)]
        await asyncio.sleep(0.5)  # every connection open before the first request
        began = time.perf_counter()
        go.set()
        await asyncio.gather(*jobs)
        return time.perf_counter() - began

    seconds = asyncio.run(main())
    return {"saves": saves, "fetches": fetches, "errors": errors, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10, help="batches each session fetches and saves")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--think", type=float, default=0.0, help="seconds between a fetch and its save")
    parser.add_argument("--client", choices=("threads", "asyncio"), default="threads",
                        help="httpx in one thread per session, or one asyncio loop with raw keep-alive connections")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp())
    source = tmp / "source.jsonl"
    count = (args.sessions * args.rounds + 1) * args.batch_size
    source.write_text("".join(json.dumps({"text": f"Text number {i} for the save benchmark."}) + "\n"
                              for i in range(count)), encoding="utf8")
    print(f"{args.sessions} sessions x {args.rounds} batches of {args.batch_size}, think {args.think} s, client {args.client}\n")
    print("| database | saves | p50 ms | p95 ms | p99 ms | max ms | fetch p50 / p95 ms | answers/s | server CPU ms per fetch + save | client CPU ms per fetch + save | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for kind in args.db.split(","):
        cluster = None
        if kind == "postgres":
            from fixtures_pg import Cluster, pg_bindir, run_as_user

            bindir, prefix = pg_bindir(), run_as_user()
            if bindir is None or prefix is None:
                print("| postgres | (no PostgreSQL installed: skipped) ||||||||")
                continue
            cluster = Cluster(bindir, prefix)
            db = cluster.new_database()
        else:
            db = str(tmp / "bench.db")
        server, url = start_server(tmp, db, source, args.batch_size)
        try:
            # The first request counts the source for the page's total: not a save, so not timed.
            httpx.post(url + "/get_session_questions", json={"session_id": "bench-warmup"}, timeout=300)
            before, client_before = cpu_seconds(server.pid), cpu_seconds(os.getpid())
            result = (run_async if args.client == "asyncio" else run)(url, args.sessions, args.rounds, args.think)
            result["cpu"] = cpu_seconds(server.pid) - before
            result["client_cpu"] = cpu_seconds(os.getpid()) - client_before
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(120)
            if cluster is not None:
                cluster.stop()
        saves, fetches = result["saves"], result["fetches"]
        print(f"| {kind} | {len(saves)} | {statistics.median(saves):.1f} | {percentile(saves, 0.95):.1f} "
              f"| {percentile(saves, 0.99):.1f} | {max(saves):.1f} | {statistics.median(fetches):.1f} / "
              f"{percentile(fetches, 0.95):.1f} | {len(saves) * args.batch_size / result['seconds']:.0f} "
              f"| {result['cpu'] * 1000 / len(saves):.1f} | {result['client_cpu'] * 1000 / len(saves):.1f} "
              f"| {len(result['errors'])} |", flush=True)
        for error in result["errors"][:3]:
            print(f"  {error}")


if __name__ == "__main__":
    main()
