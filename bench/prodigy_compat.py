"""How many published Prodigy recipe files run on binanno with only their import lines changed.

For each ``*.py`` in a corpus folder: write a copy whose import lines say ``binanno`` where they
said ``prodigy`` (``import prodigy`` becomes ``import binanno as prodigy``, nothing else changes),
then, each step in its own subprocess with a timeout:

1. import it the way ``-F`` does and list the recipes it registers, and the Prodigy names it
   uses (imports and ``prodigy.X`` attributes) that binanno doesn't have;
2. start each recipe named in the argument table (bench/prodigy_compat_args.json) through the
   real CLI, ``python -m binanno NAME ARGS -F copy.py``, on a free port of 127.0.0.1, with small
   real inputs (bench/prodigy_compat_inputs.py) and a SQLite file in a temp folder;
3. fetch questions from ``/get_session_questions`` and POST one answer to ``/give_answers``.

Each file is classified by the furthest step all its recipes reach: import fails, start fails,
no questions, serves questions, answer stored (or "runs" for a recipe that is a command).

    python bench/prodigy_compat.py /work/prodigy_corpus/files
    python bench/prodigy_compat.py CORPUS --binanno-root /tmp/compat_after   # another checkout's binanno
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
ARGS = BENCH / "prodigy_compat_args.json"
CLASSES = ("import fails", "start fails", "no questions", "serves questions", "answer stored")
RUNS = "runs (command)"  # a recipe that does its work and returns, like Prodigy's db commands
IMPORT_LINE = re.compile(r"^(\s*)(import|from)(\s+)prodigy\b")


def rewrite(source: str) -> str:
    """The recipe file with only its import lines pointed at binanno."""
    lines = []
    for line in source.splitlines(keepends=True):
        match = IMPORT_LINE.match(line)
        if match and match.group(2) == "import" and re.match(r"^\s*import\s+prodigy\s*(#.*)?$", line.rstrip("\n")):
            # `import prodigy` binds the name the body uses (`@prodigy.recipe`): keep that name
            line = line.replace("import prodigy", "import binanno as prodigy", 1)
        elif match:
            line = line[:match.end(3)] + "binanno" + line[match.end():]
        lines.append(line)
    return "".join(lines)


def prodigy_names(tree: ast.AST) -> set[str]:
    """Every Prodigy name the file uses: ``from prodigy.x import y``, ``import prodigy.x``, ``prodigy.y``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "binanno" and node.level == 0:
            names.update(f"{node.module}.{a.name}" for a in node.names if a.name != "*")
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("binanno."))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "prodigy":
            names.add(f"binanno.{node.attr}")
    return names


def has_name(dotted: str) -> bool:
    """Whether ``binanno.a.b`` exists, as a module or as an attribute of its parent module."""
    try:
        importlib.import_module(dotted)
        return True
    except ImportError:
        pass
    except Exception:  # noqa: BLE001 - a module that fails on import exists, but is broken
        return True
    parent, _, attr = dotted.rpartition(".")
    try:
        return hasattr(importlib.import_module(parent), attr)
    except Exception:  # noqa: BLE001
        return False


def probe(path: Path) -> dict[str, Any]:
    """Run inside the subprocess: the file's missing names, then its import as ``-F`` does it."""
    from binanno import core

    tree = ast.parse(path.read_text(encoding="utf8"))
    missing = sorted(n for n in prodigy_names(tree) if not has_name(n))
    result: dict[str, Any] = {"missing": [n.replace("binanno", "prodigy", 1) for n in missing], "error": None, "recipes": []}
    try:
        core.load_file(path)
    except BaseException as e:  # noqa: BLE001 - SystemExit from msg.fail(exits=1) included
        # The path in "cannot import name 'X' from 'm' (/path/m.py)" differs per checkout
        result["error"] = re.sub(r" \(/[^)]*\)", "", f"{type(e).__name__}: {e}".splitlines()[0])[:300]
        return result
    result["recipes"] = [name for name, entry in core._RECIPES.items() if entry.func.__module__.startswith("binanno_user_recipes")]
    return result


@dataclass
class RecipeResult:
    recipe: str
    cls: str
    detail: str = ""
    db: str = ""  # the run's SQLite file, to look at what was stored


@dataclass
class FileResult:
    file: str
    cls: str
    detail: str = ""
    missing: list[str] = field(default_factory=list)
    recipes: list[RecipeResult] = field(default_factory=list)
    out_of_scope: str | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def error_line(output: str) -> str:
    """The one line that says why a process failed: binanno's ✘ line or the exception at the end of a traceback."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("✘") or re.match(r"^[\w.]+(Error|Exception|Exit|Interrupt)\b", line):
            return line[:300]
    return lines[-1][:300] if lines else "(no output)"


class Runner:
    """Runs the steps of one corpus file in subprocesses against the binanno found at ``root``."""

    def __init__(self, root: Path, work: Path, placeholders: dict[str, str], timeout: float) -> None:
        self.root, self.work, self.placeholders, self.timeout = root, work, placeholders, timeout
        # The page's interfaces, one ES module each: a view_id without one is served but not shown
        self.interfaces = {p.stem for p in (root / "static" / "interfaces").glob("*.js")} - {"index"}
        self.env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                    "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

    def fill(self, value: str) -> str:
        for key, real in self.placeholders.items():
            value = value.replace(key, real)
        return value

    def probe(self, copy: Path) -> dict[str, Any]:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--probe", str(copy)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, env=self.env, cwd=self.work, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            return {"missing": [], "error": f"import took over {self.timeout:.0f} s", "recipes": []}
        last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
        try:
            return dict(json.loads(last))
        except json.JSONDecodeError:
            return {"missing": [], "error": error_line(done.stderr + done.stdout), "recipes": []}

    def write_files(self, spec: dict[str, Any]) -> None:
        """The files a recipe reads from its working folder, some of them when its module is imported."""
        for name, content in spec.get("files", {}).items():
            target = self.work / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf8")

    def prepare(self, spec: dict[str, Any], home: Path, db: Path) -> None:
        """The run's files, setup code and datasets, made before the recipe starts."""
        self.write_files(spec)
        if spec.get("setup"):
            subprocess.run([sys.executable, "-c", "\n".join(spec["setup"])], cwd=self.work, env=self.env, check=True,
                           capture_output=True, text=True, timeout=self.timeout)
        for dataset, source in spec.get("db_in", {}).items():
            subprocess.run([sys.executable, "-m", "binanno", "db-in", dataset, self.fill(source), "--db", str(db)],
                           cwd=self.work, env={**self.env, "BINANNO_HOME": str(home)}, check=True, capture_output=True,
                           text=True, timeout=self.timeout)

    def run_recipe(self, copy: Path, recipe: str, spec: dict[str, Any]) -> RecipeResult:
        run_dir = Path(tempfile.mkdtemp(prefix="run_", dir=self.work))
        home, db = run_dir / "home", run_dir / "answers.db"
        home.mkdir()
        try:
            self.prepare(spec, home, db)
        except subprocess.CalledProcessError as e:
            return RecipeResult(recipe, "start fails", "setup: " + error_line(f"{e.stdout}\n{e.stderr}"))
        except subprocess.TimeoutExpired:
            return RecipeResult(recipe, "start fails", f"setup took over {self.timeout:.0f} s")
        port = _free_port()
        cmd = [sys.executable, "-m", "binanno", recipe, *[self.fill(a) for a in spec.get("argv", [])], "-F", str(copy),
               "--port", str(port), "--host", "127.0.0.1", "--db", str(db)]
        log = (run_dir / "server.log").open("w+", encoding="utf8")
        proc = subprocess.Popen(cmd, cwd=self.work, env={**self.env, "BINANNO_HOME": str(home)}, stdout=log, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        try:
            result = self._talk(proc, recipe, f"http://127.0.0.1:{port}", log)
            result.db = str(db)
            return result
        finally:
            self._stop(proc)
            log.close()

    def _talk(self, proc: subprocess.Popen[str], recipe: str, url: str, log: Any) -> RecipeResult:
        deadline = time.monotonic() + self.timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                output = log.read()
                if proc.returncode == 0:
                    return RecipeResult(recipe, RUNS, "returned without starting a server")
                return RecipeResult(recipe, "start fails", error_line(output))
            try:
                httpx.get(url + "/project", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    return RecipeResult(recipe, "start fails", f"no server after {self.timeout:.0f} s")
                time.sleep(0.3)
        project = httpx.get(url + "/project", timeout=self.timeout).json()
        blocks = (project.get("config") or {}).get("blocks") or []
        views = {project.get("view_id")} | {b.get("view_id") for b in blocks if isinstance(b, dict)}
        unshown = sorted(v for v in views if v and v not in self.interfaces)
        result = self._ask(recipe, url)
        if result.cls == "no questions":  # the server's log says why the stream gave nothing
            log.seek(0)
            result.detail += "; log: " + error_line(log.read())
        if unshown:
            result.detail = f"the page has no {', '.join(unshown)} interface; {result.detail}"
        return result

    def _ask(self, recipe: str, url: str) -> RecipeResult:
        try:
            reply = httpx.post(url + "/get_session_questions", json={"session_id": None}, timeout=self.timeout)
        except httpx.HTTPError as e:
            return RecipeResult(recipe, "no questions", f"/get_session_questions: {type(e).__name__}")
        if reply.status_code != 200:
            return RecipeResult(recipe, "no questions", f"/get_session_questions {reply.status_code}: {reply.text[:200]}")
        tasks = reply.json().get("tasks") or []
        if not tasks:
            return RecipeResult(recipe, "no questions", "the first batch is empty")
        answer = {**tasks[0], "answer": "accept"}
        if answer.get("options") and not answer.get("accept"):
            answer["accept"] = [answer["options"][0].get("id")]
        try:
            given = httpx.post(url + "/give_answers", json={"answers": [answer], "session_id": None}, timeout=self.timeout)
        except httpx.HTTPError as e:
            return RecipeResult(recipe, "serves questions", f"/give_answers: {type(e).__name__}")
        if given.status_code == 200 and given.json().get("stored", 0) >= 1:
            return RecipeResult(recipe, "answer stored", f"{len(tasks)} questions in the first batch")
        return RecipeResult(recipe, "serves questions", f"/give_answers {given.status_code}: {given.text[:200]}")

    def _stop(self, proc: subprocess.Popen[str]) -> None:
        """Ctrl+C, as a user would (on_exit runs); then the whole process group if it hangs."""
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def check_file(self, path: Path, table: dict[str, Any]) -> FileResult:
        """Import, start and ask one corpus file, as the module docstring describes."""
        entry = table.get(path.name, {})
        copy = self.work / "copies" / path.name
        copy.parent.mkdir(exist_ok=True)
        copy.write_text(rewrite(path.read_text(encoding="utf8")), encoding="utf8")
        for spec in entry.get("recipes", {}).values():
            self.write_files(spec)
        found = self.probe(copy)
        result = FileResult(path.name, "import fails", missing=found["missing"], out_of_scope=entry.get("out_of_scope"))
        if found["error"]:
            result.detail = found["error"]
            return result
        runs = entry.get("recipes", {})
        if not runs:
            result.cls, result.detail = "start fails", f"no arguments in {ARGS.name} for {', '.join(found['recipes']) or 'any recipe'}"
            return result
        for recipe, spec in runs.items():
            if recipe not in found["recipes"]:
                result.recipes.append(RecipeResult(recipe, "start fails", "the file doesn't register it"))
                continue
            result.recipes.append(self.run_recipe(copy, recipe, spec))
        order = {**{c: i for i, c in enumerate(CLASSES)}, RUNS: len(CLASSES) - 1}
        worst = min(result.recipes, key=lambda r: order[r.cls])
        result.cls, result.detail = worst.cls, (f"{worst.recipe}: " if len(result.recipes) > 1 else "") + worst.detail
        # The temp folder differs per run: name it the way the argument table does
        result.detail = result.detail.replace(str(self.work), "{work}")
        return result


def in_scope(result: FileResult) -> bool:
    """A file marked out of scope stays out even where the protocol works: the page can't show image_manual boxes."""
    return result.out_of_scope is None


def report(results: list[FileResult]) -> str:
    """Markdown: counts per class, one row per file, then the missing names and errors, most common first."""
    scoped = [r for r in results if in_scope(r)]
    out = [f"{len(results)} files, {len(results) - len(scoped)} out of scope (they need what binanno does not have).", "",
           "| class | files in scope | all files |", "|---|---|---|"]
    for cls in (*CLASSES, RUNS):
        out.append(f"| {cls} | {sum(r.cls == cls for r in scoped)} | {sum(r.cls == cls for r in results)} |")
    out += ["", "| file | class | detail |", "|---|---|---|"]
    for r in results:
        scope = f" (out of scope: {r.out_of_scope})" if not in_scope(r) else ""
        out.append(f"| {r.file} | {r.cls}{scope} | {r.detail.replace('|', '/')} |")
    names = Counter(n for r in results for n in r.missing)
    out += ["", "Prodigy names binanno lacks (files using each, of all files):", "", "| name | files |", "|---|---|"]
    out += [f"| `{name}` | {count} |" for name, count in names.most_common()]
    errors = Counter(re.sub(r"'[^']*\.py'|/\S+", "…", r.detail) for r in scoped if r.cls in ("import fails", "start fails"))
    out += ["", "Errors that stop files in scope (import or start), most common first:", "", "| error | files |", "|---|---|"]
    out += [f"| {e.replace('|', '/')} | {c} |" for e, c in errors.most_common()]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Check every file of a corpus folder and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, help="folder of Prodigy recipe files (*.py)")
    parser.add_argument("--args", type=Path, default=ARGS, help="argument table (JSON)")
    parser.add_argument("--binanno-root", type=Path, default=None,
                        help="checkout whose binanno to measure (default: the current folder if it holds binanno/, else this repository)")
    parser.add_argument("--only", default="", help="comma-separated file names to check")
    parser.add_argument("--timeout", type=float, default=180, help="seconds per step")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    parser.add_argument("--probe", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return 0
    if args.corpus is None or not args.corpus.is_dir():
        parser.error("pass the folder of recipe files to check")
    root = args.binanno_root or (Path.cwd() if (Path.cwd() / "binanno").is_dir() else BENCH.parent)
    table = json.loads(args.args.read_text(encoding="utf8"))
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    from prodigy_compat_inputs import make_inputs

    results = []
    with tempfile.TemporaryDirectory(prefix="prodigy_compat_") as tmp:
        work = Path(tmp)
        runner = Runner(root.resolve(), work, make_inputs(work), args.timeout)
        for path in sorted(args.corpus.glob("*.py")):
            if only and path.name not in only:
                continue
            result = runner.check_file(path, table)
            print(f"{result.file}: {result.cls} {result.detail}", file=sys.stderr, flush=True)
            results.append(result)
    print(f"binanno from {root.resolve()}\n")
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ | {"recipes": [x.__dict__ for x in r.recipes]} for r in results], indent=1),
                             encoding="utf8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
