"""The page's templates and static files, read into memory when the server starts.

A running server must not depend on its package's files staying in place: `pip install -e .`
into the virtualenv of a server installed from the wheel removes the wheel's files, and a
server that read them on each request answered 500 TemplateNotFound from then on.
"""

from __future__ import annotations

import hashlib
import mimetypes

import jinja2
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.templating import Jinja2Templates

from .paths import asset_dir


def read_assets(name: str) -> dict[str, bytes]:
    """Every file of ``asset_dir(name)`` (``templates`` or ``static``), by its path relative to it."""
    root = asset_dir(name)
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and path.suffix not in (".py", ".pyc")}


def load_templates() -> Jinja2Templates:
    """The page's Jinja2 templates, from memory (autoescaped, as Starlette's own loader does)."""
    sources = {name: data.decode("utf8") for name, data in read_assets("templates").items()}
    return Jinja2Templates(env=jinja2.Environment(loader=jinja2.DictLoader(sources), autoescape=True))


class StaticFiles:
    """``/static/{path}`` from memory, with an ETag so that a browser revalidates instead of fetching again."""

    def __init__(self) -> None:
        self.files = read_assets("static")
        self.etags = {path: f'"{hashlib.blake2b(data, digest_size=8).hexdigest()}"' for path, data in self.files.items()}

    def response(self, path: str, if_none_match: str | None = None) -> Response:
        """The file at ``path`` (a 404 when there is none; a 304 when the browser's copy is current)."""
        data = self.files.get(path)
        if data is None:
            return PlainTextResponse("Not Found", 404)
        headers = {"etag": self.etags[path], "cache-control": "no-cache"}
        if if_none_match == self.etags[path]:
            return Response(status_code=304, headers=headers)
        return Response(data, media_type=mimetypes.guess_type(path)[0] or "application/octet-stream", headers=headers)

    async def endpoint(self, request: Request) -> Response:
        """The Starlette endpoint of the ``/static/{path:path}`` route."""
        return self.response(request.path_params["path"], request.headers.get("if-none-match"))
