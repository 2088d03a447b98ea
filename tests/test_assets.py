"""The page's files come from memory: a running server keeps serving when its package files go."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from binanno.assets import StaticFiles, load_templates, read_assets
from binanno.views import VIEW_IDS


def test_every_static_file_is_read_and_served_with_an_etag() -> None:
    files = read_assets("static")
    on_disk = {p.relative_to(ROOT / "static").as_posix() for p in (ROOT / "static").rglob("*") if p.is_file()}
    assert set(files) == on_disk and "interfaces/ner_manual.js" in files
    static = StaticFiles()
    app = Starlette(routes=[Route("/static/{path:path}", static.endpoint)])
    with TestClient(app) as client:
        first = client.get("/static/app.js")
        assert first.status_code == 200 and first.content == (ROOT / "static" / "app.js").read_bytes()
        assert "javascript" in first.headers["content-type"]
        again = client.get("/static/app.js", headers={"if-none-match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert client.get("/static/no_such.js").status_code == 404
        assert client.get("/static/../binanno/server.py").status_code == 404


def test_templates_render_from_memory(tmp_path: Path) -> None:
    env = load_templates().env
    assert "index.html" in env.list_templates()
    assert "&lt;b&gt;" in env.from_string("{{ x }}").render(x="<b>")  # autoescaped, as before


def test_the_view_ids_the_recipes_accept_are_the_interfaces_the_page_has() -> None:
    registry = (ROOT / "static" / "interfaces" / "index.js").read_text(encoding="utf8")
    (names,) = re.findall(r"export const VIEWS = \{([^}]*)\}", registry)
    assert sorted(VIEW_IDS) == sorted(n.strip() for n in names.split(","))
