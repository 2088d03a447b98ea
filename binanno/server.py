"""The web app: Prodigy's REST protocol over one Controller, and the one-question page."""

from __future__ import annotations

import contextlib
import html
import json
from typing import Any, AsyncIterator, Mapping

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from . import __version__
from .annotators import SCOPE_KEY, TokenAuth, read_tokens, refusal, session_list
from .assets import StaticFiles, load_templates
from .components.db import DatabaseDown
from .components.media import MEDIA_ROUTE, media_type, served_file
from .config import SETTINGS
from .controller import AnswerError, Controller
from .errors import UserError
from .security import SameOrigin, allowed_hostnames
from .shutdown import close_patiently, sigterm_as_ctrl_c
from .transport import http_protocol

# Settings the page reads; every other key of the settings table (the database URL, host, port,
# the model's knobs) stays on the server. Keys outside the table are the recipe's config and go.
PAGE_SETTINGS = ("batch_size", "history_size", "feed_overlap", "title")
SERVER_ONLY = frozenset(s.name for s in SETTINGS if s.name not in PAGE_SETTINGS)


def page_config(settings: Mapping[str, Any]) -> dict[str, Any]:
    """What of the merged settings the page sees: the recipe's whole config plus the page's settings."""
    return {k: v for k, v in settings.items() if k not in SERVER_ONLY and not k.startswith("basic_auth")}
MAX_SESSION_ID = 200


def basic_auth(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The configured basic-auth user and password; half a pair is an error, not silently no auth."""
    user, password = environ.get("BINANNO_BASIC_AUTH_USER"), environ.get("BINANNO_BASIC_AUTH_PASS")
    if bool(user) != bool(password):
        given, missing = ("BINANNO_BASIC_AUTH_USER", "BINANNO_BASIC_AUTH_PASS") if user else ("BINANNO_BASIC_AUTH_PASS", "BINANNO_BASIC_AUTH_USER")
        raise UserError(f"{given} is set but {missing} is not: set both for basic auth, or neither")
    if user and ":" in user:
        raise UserError("BINANNO_BASIC_AUTH_USER can't contain ':' (basic auth splits user and password there)")
    return (user, password) if user and password else None


class SessionRefused(Exception):
    """A session that ``allowed_sessions`` doesn't name."""


class TooLarge(Exception):
    """A request body over the ``max_request_size`` setting."""


async def _read(request: Request, limit: int) -> bytes:
    # Stop at the limit instead of buffering whatever a client sends.
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _body(request: Request, limit: int) -> dict[str, Any]:
    # sendBeacon posts text/plain, so parse the body whatever its content type says.
    raw = await _read(request, limit)
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, RecursionError):  # also bad UTF-8, 5,000-digit numbers and deep nesting
        raise AnswerError("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise AnswerError("the request body must be a JSON object")
    session_id = data.get("session_id")
    if session_id is not None and not (isinstance(session_id, str) and len(session_id) <= MAX_SESSION_ID
                                       and session_id.isprintable()):
        raise AnswerError(f"session_id must be printable text of at most {MAX_SESSION_ID} characters, or null")
    return data


def _with_body(request: Request, body: dict[str, Any]) -> Request:
    """``request`` with ``body`` as its JSON body (a GET answered as its POST twin)."""
    data = json.dumps(body).encode()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": data, "more_body": False}

    return Request(request.scope, receive)


def _refusal(error: AnswerError) -> JSONResponse:
    return JSONResponse({"error": str(error), "refused": error.refused}, 400)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"error": f"the request is over {limit:,} bytes (the max_request_size setting): send fewer "
                                  "answers per request, or import a file with db-in", "refused": []}, 413)


def create_app(controller: Controller, environ: Mapping[str, str] | None = None, lifespan: bool = True,
               hostnames: set[str] | None = None) -> Starlette:
    """A Starlette app serving ``controller``; basic auth from ``BINANNO_BASIC_AUTH_USER/PASS``.

    ``hostnames``: the Host names it answers to (``serve`` passes the ones it listens on); None: any.
    """
    import os

    environ = os.environ if environ is None else environ
    # Read now, not per request: a reinstall of the package under a running server can't take them away.
    templates = load_templates()
    static = StaticFiles()
    settings = controller.settings
    public = page_config(settings)
    limit = int(settings.get("max_request_size") or 4_000_000)
    allowed = session_list(settings.get("allowed_sessions"))
    tokens = read_tokens(settings.get("session_tokens"))

    def session_of(request: Request, asked: str | None) -> str:
        """The request's session: the signed-in one (a session token), else the one it names."""
        signed_in = request.scope.get(SCOPE_KEY)
        session_id = controller.session_name(f"{controller.dataset}-{signed_in}" if signed_in else asked)
        why = refusal(session_id, controller.dataset, allowed)
        if why:
            raise SessionRefused(why)
        return session_id

    def payload(session_id: str | None) -> dict[str, Any]:
        return {"progress": controller.progress(), "total": controller.total(), "status": controller.status(session_id)}

    async def index(request: Request) -> Response:
        named = request.query_params.get("session")
        if allowed is not None and not request.scope.get(SCOPE_KEY):
            why = refusal(f"{controller.dataset}-{named}", controller.dataset, allowed) if named else \
                "this server serves named sessions only: open the page with ?session=YOUR_NAME"
            if why:
                return HTMLResponse(f"<!doctype html><title>binanno</title><p>{html.escape(why)}</p>", 403)
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
            data = await _body(request, limit)
        except AnswerError as e:
            return _refusal(e)
        except TooLarge:
            return _too_large(limit)
        try:
            session_id = session_of(request, data.get("session_id"))
        except SessionRefused as e:
            return JSONResponse({"error": str(e), "refused": []}, 403)
        # Ready questions are served on the event loop: each hand-off to a thread can wait for the
        # GIL while the model worker trains (p50 ~6 ms more). Only a wait for the model goes to a thread.
        tasks = controller.ready_questions(session_id)
        if tasks is None:
            tasks = await run_in_threadpool(controller.get_questions, session_id)
        return JSONResponse({"tasks": tasks, "session_id": session_id, **payload(session_id)})

    async def get_questions(request: Request) -> Response:
        # Prodigy's older name for the same request; a GET names its session in the query string.
        if request.method == "GET":
            request = _with_body(request, {"session_id": request.query_params.get("session_id")})
        return await get_session_questions(request)

    async def media_file(request: Request) -> Response:
        # Only files under a folder ImageServer or AudioServer registered; anything else is a 404.
        path = served_file(request.path_params["token"], request.path_params["name"])
        if path is None:
            return JSONResponse({"error": "no such file"}, 404)
        return FileResponse(path, media_type=media_type(path), headers={"content-security-policy": "sandbox"})

    async def give_answers(request: Request) -> Response:
        try:
            data = await _body(request, limit)
            answers = data.get("answers")
            if not isinstance(answers, list):
                raise AnswerError("expected {'answers': [...], 'session_id': ...}")
            session_id = session_of(request, data.get("session_id"))
            if controller.answers_on_loop(answers, session_id):
                stored = await controller.receive_answers_async(answers, session_id)
            else:
                stored = await run_in_threadpool(controller.receive_answers, answers, session_id)
        except AnswerError as e:
            return _refusal(e)
        except TooLarge:
            return _too_large(limit)
        except SessionRefused as e:
            return JSONResponse({"error": str(e), "refused": []}, 403)
        except DatabaseDown as e:  # nothing stored: the page keeps the answers and sends them again
            return JSONResponse({"error": str(e), "refused": []}, 503)
        return JSONResponse({"stored": stored, **payload(session_id)})

    async def favicon_ico(request: Request) -> Response:
        response = static.response("favicon.ico", request.headers.get("if-none-match"))
        response.headers["content-type"] = "image/x-icon"
        return response

    async def status(request: Request) -> Response:
        return JSONResponse(payload(request.query_params.get("session_id")))

    @contextlib.asynccontextmanager
    async def close_on_shutdown(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(controller.close)

    middleware = [Middleware(SameOrigin, hostnames=hostnames)]
    auth = basic_auth(environ)
    if tokens or auth:  # one parser for the shared pair and per-session tokens (binanno.annotators)
        middleware.append(Middleware(TokenAuth, tokens=tokens, shared=auth))
    routes = [
        Route("/", index),
        Route("/project", project),
        Route("/get_session_questions", get_session_questions, methods=["POST"]),
        Route("/get_questions", get_questions, methods=["GET", "POST"]),
        Route(MEDIA_ROUTE + "/{token}/{name:path}", media_file),
        Route("/give_answers", give_answers, methods=["POST"]),
        Route("/status", status),
        Route("/favicon.ico", favicon_ico),
        Route("/static/{path:path}", static.endpoint),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=close_on_shutdown if lifespan else None)


def serve(components: Any, settings: dict[str, Any]) -> None:
    """Start the controller and the web server; Ctrl+C applies pending updates and exits cleanly."""
    import gc
    import os

    import uvicorn

    from .components.db import Database
    from .config import home

    basic_auth(os.environ)  # half a pair is reported before anything starts
    read_tokens(settings.get("session_tokens"))  # and so is a bad tokens file
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
    app = create_app(controller, lifespan=False, hostnames=allowed_hostnames(host, str(settings.get("allowed_hosts") or "").split(",")))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, http=http_protocol(),
                                           log_level="warning", lifespan="off", timeout_graceful_shutdown=3))
    try:
        with sigterm_as_ctrl_c():
            server.run()
    except KeyboardInterrupt:
        pass
    finally:
        try:
            close_patiently(controller)
        finally:
            db.close()
    status = controller.status()
    print(f"\n✔ Saved answers to '{controller.dataset}': {status['accept']} accept, {status['reject']} reject, "
          f"{status['ignore']} ignore ({status['answered']} in total)", flush=True)
