"""The web app: Prodigy's REST protocol over one Controller, and the one-question page."""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
from typing import Any, AsyncIterator, Mapping

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from . import __version__
from .config import SETTINGS
from .controller import AnswerError, Controller
from .paths import asset_dir

# Settings the page reads; every other key of the settings table (the database URL, host, port,
# the model's knobs) stays on the server. Keys outside the table are the recipe's config and go.
PAGE_SETTINGS = ("batch_size", "history_size", "feed_overlap", "title")
SERVER_ONLY = frozenset(s.name for s in SETTINGS if s.name not in PAGE_SETTINGS)


def page_config(settings: Mapping[str, Any]) -> dict[str, Any]:
    """What of the merged settings the page sees: the recipe's whole config plus the page's settings."""
    return {k: v for k, v in settings.items() if k not in SERVER_ONLY and not k.startswith("basic_auth")}


class BasicAuth:
    """HTTP basic auth on every route, when a user and password are configured."""

    def __init__(self, app: ASGIApp, user: str, password: str) -> None:
        self.app = app
        self.expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = dict(scope["headers"]).get(b"authorization", b"").decode("latin1")
            if not secrets.compare_digest(header, self.expected):
                response = Response("Authentication required", 401, {"WWW-Authenticate": 'Basic realm="binanno"'})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _body(request: Request) -> dict[str, Any]:
    # sendBeacon posts text/plain, so parse the body whatever its content type says.
    raw = await request.body()
    try:
        data = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise AnswerError("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise AnswerError("the request body must be a JSON object")
    return data


def create_app(controller: Controller, environ: Mapping[str, str] | None = None, lifespan: bool = True) -> Starlette:
    """A Starlette app serving ``controller``; basic auth from ``BINANNO_BASIC_AUTH_USER/PASS``."""
    import os

    environ = os.environ if environ is None else environ
    templates = Jinja2Templates(directory=str(asset_dir("templates")))
    settings = controller.settings
    public = page_config(settings)
    favicon = asset_dir("static") / "favicon.ico"

    def payload(session_id: str | None) -> dict[str, Any]:
        return {"progress": controller.progress(), "total": controller.total(), "status": controller.status(session_id)}

    async def index(request: Request) -> Response:
        # With a progress estimate or a total, the bar shows from the start ("estimating" until there is one).
        has_progress = any(controller.components.get(k) is not None for k in ("progress", "total"))
        page_project = {"dataset": controller.dataset, "view_id": controller.view_id, "has_progress": has_progress}
        return templates.TemplateResponse(request, "index.html", {
            "title": public.get("title") or "binanno", "dataset": controller.dataset,
            "config": public, "project": page_project,
        })

    async def project(request: Request) -> Response:
        return JSONResponse({"dataset": controller.dataset, "view_id": controller.view_id,
                             "config": public, "version": __version__})

    async def get_session_questions(request: Request) -> Response:
        try:
            data = await _body(request)
        except AnswerError as e:
            return JSONResponse({"error": str(e)}, 400)
        session_id = controller.session_name(data.get("session_id"))
        # Ready questions are served on the event loop: each hand-off to a thread can wait for the
        # GIL while the model worker trains (p50 ~6 ms more). Only a wait for the model goes to a thread.
        tasks = controller.ready_questions(session_id)
        if tasks is None:
            tasks = await run_in_threadpool(controller.get_questions, session_id)
        return JSONResponse({"tasks": tasks, "session_id": session_id, **payload(session_id)})

    async def give_answers(request: Request) -> Response:
        try:
            data = await _body(request)
            answers = data.get("answers")
            if not isinstance(answers, list):
                raise AnswerError("expected {'answers': [...], 'session_id': ...}")
            session_id = controller.session_name(data.get("session_id"))
            stored = await run_in_threadpool(controller.receive_answers, answers, session_id)
        except AnswerError as e:
            body: dict[str, Any] = {"error": str(e)}
            if e.refused:
                body["refused"] = e.refused
            return JSONResponse(body, 400)
        return JSONResponse({"stored": stored, **payload(session_id)})

    async def favicon_ico(request: Request) -> Response:
        return FileResponse(favicon, media_type="image/x-icon")

    async def status(request: Request) -> Response:
        return JSONResponse(payload(request.query_params.get("session_id")))

    @contextlib.asynccontextmanager
    async def close_on_shutdown(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(controller.close)

    middleware = []
    user, password = environ.get("BINANNO_BASIC_AUTH_USER"), environ.get("BINANNO_BASIC_AUTH_PASS")
    if user and password:
        middleware.append(Middleware(BasicAuth, user=user, password=password))
    routes = [
        Route("/", index),
        Route("/project", project),
        Route("/get_session_questions", get_session_questions, methods=["POST"]),
        Route("/give_answers", give_answers, methods=["POST"]),
        Route("/status", status),
        Route("/favicon.ico", favicon_ico),
        Mount("/static", StaticFiles(directory=str(asset_dir("static"))), name="static"),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=close_on_shutdown if lifespan else None)


def serve(components: Any, settings: dict[str, Any]) -> None:
    """Start the controller and the web server; Ctrl+C applies pending updates and exits cleanly."""
    import gc

    import uvicorn

    from .config import home
    from .db import Database

    db = Database(settings.get("db") or home() / "binanno.db")
    controller = Controller(components, db, settings)
    try:
        controller.start()
    except BaseException:
        controller.close()
        db.close()
        raise
    # The model, vocab and stream state live until the end: freezing them keeps Python's full
    # collections from scanning them (with spaCy NER each was a 100-200 ms pause of every thread).
    gc.collect()
    gc.freeze()
    host, port = settings["host"], settings["port"]
    print(f"✨ Starting the web server at http://{host}:{port} ...\nOpen the app in your browser and start annotating! (Ctrl+C to stop)", flush=True)
    # The controller is closed here rather than in a lifespan hook: uvicorn re-raises Ctrl+C
    # after its own shutdown, and the pending model updates and on_exit must run either way.
    server = uvicorn.Server(uvicorn.Config(create_app(controller, lifespan=False), host=host, port=port,
                                           log_level="warning", lifespan="off", timeout_graceful_shutdown=3))
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        controller.close()
        db.close()
    status = controller.status()
    print(f"\n✔ Saved answers to '{controller.dataset}': {status['accept']} accept, {status['reject']} reject, "
          f"{status['ignore']} ignore ({status['answered']} in total)", flush=True)
