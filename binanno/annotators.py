"""Annotators: which named sessions may get questions, and per-annotator tokens.

``allowed_sessions`` names the only sessions served. ``session_tokens`` is a JSON file mapping each
session name to a token of its own, an alternative to one shared basic-auth pair: the annotator
signs in as NAME with the token as password (basic auth), or sends ``Authorization: Bearer TOKEN``,
and the session is then taken from the token, whatever ``?session=`` says.
"""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import UserError

SCOPE_KEY = "binanno.session"  # where the auth middleware leaves the signed-in session name


def session_list(value: str | None) -> set[str] | None:
    """The ``allowed_sessions`` setting as a set of names; None when it is empty (any session)."""
    names = {n.strip() for n in str(value or "").split(",") if n.strip()}
    return names or None


def read_tokens(path: str | None) -> dict[str, str]:
    """The ``session_tokens`` file as ``{session name: token}`` ({} when unset), checked."""
    if not path:
        return {}
    file = Path(path).expanduser()
    try:
        data: Any = json.loads(file.read_text(encoding="utf8"))
    except OSError as e:
        raise UserError(f"can't read the session_tokens file ({e.strerror}): check the session_tokens setting", path=file) from None
    except (ValueError, UnicodeDecodeError) as e:
        raise UserError(f"not a JSON file ({e}): write an object such as {{\"alice\": \"TOKEN\"}}", path=file) from None
    if not isinstance(data, dict) or not data:
        raise UserError('expected a JSON object mapping session names to tokens, such as {"alice": "TOKEN"}', path=file)
    for name, token in data.items():
        if not name or ":" in name or not name.isprintable():
            raise UserError(f"session name {name!r} must be printable text without ':'", path=file)
        if not isinstance(token, str) or len(token) < 8:
            raise UserError(f"the token of session {name!r} must be text of at least 8 characters", path=file)
    if len(set(data.values())) < len(data):
        raise UserError("two sessions share a token: give each session its own", path=file)
    return dict(data)


def _decode(header: bytes) -> tuple[str, bytes, bytes] | None:
    """``(scheme, user, secret)`` from an Authorization header (the user is empty for a bearer token)."""
    scheme, _, credentials = header.partition(b" ")
    scheme_name = scheme.lower().decode("latin-1")
    if scheme_name == "bearer":
        return "bearer", b"", credentials.strip()
    if scheme_name != "basic":
        return None
    try:
        given = base64.b64decode(credentials.strip(), validate=True)
    except ValueError:  # binascii.Error: not base64
        return None
    user, _, password = given.partition(b":")
    return "basic", user, password


class TokenAuth:
    """Auth on every route by per-session tokens, and by the shared basic-auth pair when one is set."""

    def __init__(self, app: ASGIApp, tokens: dict[str, str], shared: tuple[str, str] | None = None) -> None:
        self.app = app
        self.tokens = [(name.encode(), token.encode()) for name, token in tokens.items()]
        self.shared = f"{shared[0]}:{shared[1]}".encode() if shared else None

    def session(self, header: bytes) -> str | None:
        """The session name the header signs in as: '' for the shared pair, None for no one."""
        decoded = _decode(header)
        if decoded is None:
            return None
        scheme, user, secret = decoded
        if scheme == "basic" and self.shared is not None and secrets.compare_digest(user + b":" + secret, self.shared):
            return ""
        found = None
        for name, token in self.tokens:  # every token compared, so the time says nothing about which
            if secrets.compare_digest(secret, token) and (scheme == "bearer" or secrets.compare_digest(user, name)):
                found = name.decode()
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = self.session(dict(scope["headers"]).get(b"authorization", b""))
        if name is None:
            response = Response("Sign in with your session name and token", 401, {"WWW-Authenticate": 'Basic realm="binanno"'})
            await response(scope, receive, send)
            return
        await self.app({**scope, SCOPE_KEY: name or None}, receive, send)


def refusal(session_id: str, dataset: str, allowed: set[str] | None) -> str | None:
    """Why ``session_id`` (``DATASET-NAME``) may not get questions, or None when it may."""
    if allowed is None:
        return None
    name = session_id[len(dataset) + 1:] if session_id.startswith(f"{dataset}-") else session_id
    if name in allowed or session_id in allowed:
        return None
    return (f"the session {name[:80]!r} is not allowed on this server (allowed_sessions): "
            f"open the page with ?session=YOUR_NAME, one of the names you were given")
