"""A real, non-editable install: the built wheel in a fresh virtualenv, run from another directory."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, free_port

pytestmark = pytest.mark.slow


def test_wheel_installs_and_serves_the_page_from_anywhere(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
                   check=True, cwd=tmp_path)
    wheel = next(dist.glob("binanno-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for asset in ("static/app.js", "static/favicon.ico", "static/core/outbox.js", "static/interfaces/index.js",
                  "static/interfaces/ner_manual.js", "templates/index.html"):
        assert f"binanno/{asset}" in names, f"{asset} is not in the wheel: add it to [options.package_data]"

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # Dependencies come from the test environment (appended after the venv's own site-packages,
    # so the wheel's binanno wins); binanno itself comes only from the wheel.
    # (sys.path too: a worktree's virtualenv may reach the shared one's packages through a .pth file.)
    deps = [p for p in {sysconfig.get_paths()["purelib"], *site.getsitepackages(), *(q for q in sys.path if q.endswith("site-packages"))}
            if Path(p).is_dir()]
    (Path(purelib) / "deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "--target", purelib, str(wheel)], check=True)
    binanno = [str(python), "-m", "binanno"]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["BINANNO_HOME"] = str(tmp_path / "home")
    where = subprocess.run([str(python), "-c", "import binanno, binanno.recipes.mark; print(binanno.__file__)"],
                           capture_output=True, text=True, cwd=elsewhere, env=env, check=True).stdout
    assert where.startswith(purelib)
    listing = subprocess.run([*binanno, "--help"], capture_output=True, text=True, cwd=elsewhere, env=env, check=True).stdout
    assert "mark" in listing and "db-out" in listing

    sample = Path(purelib) / "binanno" / "data" / "news_spans.jsonl"
    port = free_port()
    proc = subprocess.Popen([*binanno, "mark", "demo", str(sample), "--port", str(port)], cwd=elsewhere, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(300):
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                import time

                time.sleep(0.2)
        assert page.status_code == 200 and "/static/app.js" in page.text
        assert httpx.get(f"http://127.0.0.1:{port}/static/app.js").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/static/app.css").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/static/interfaces/ner_manual.js").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/favicon.ico").status_code == 200
        tasks = httpx.post(f"http://127.0.0.1:{port}/get_session_questions", json={"session_id": None}).json()["tasks"]
        assert tasks

        # The README's test command (`pip install -e .`) run in this virtualenv beside the server
        # uninstalls the wheel's files first. The server read its page files at start: it still serves.
        for folder in ("templates", "static"):
            shutil.rmtree(Path(purelib) / "binanno" / folder)
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
        for asset in ("app.js", "interfaces/ner_manual.js", "vendor/purify.es.js"):
            assert httpx.get(f"http://127.0.0.1:{port}/static/{asset}").status_code == 200, asset
        assert httpx.get(f"http://127.0.0.1:{port}/favicon.ico").status_code == 200
    finally:
        proc.terminate()
        proc.wait(30)
