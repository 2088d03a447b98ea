"""Requests from other sites: the Host and Origin checks, and the headers that keep the page in its lane.

Without them any web page could post answers (a form posts text/plain, which the server accepts
for ``sendBeacon``), and a DNS-rebinding page could read the questions through another name.
"""

from __future__ import annotations

import json
from typing import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ANY_INTERFACE = {"0.0.0.0", "::", ""}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# The page loads its scripts and styles from /static and holds only JSON data blocks inline;
# images may come from anywhere (an html task may show a remote picture).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src * data: blob:; "
       "media-src * data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]


def _hostname(host: str) -> str:
    """``example.org`` from ``example.org:8080`` or ``[::1]:8080`` (lower case)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hostnames(host: str, extra: Iterable[str] = ()) -> set[str] | None:
    """The Host names the server answers to; None for any (it listens on every interface)."""
    names = {_hostname(h) for h in extra if h.strip()}
    if "*" in names or host in ANY_INTERFACE:
        return None
    return names | {_hostname(host)} | (LOOPBACK if _hostname(host) in LOOPBACK else set())


class SameOrigin:
    """Refuse other Host names (403) and cross-site state changes (403); add security headers."""

    def __init__(self, app: ASGIApp, hostnames: set[str] | None) -> None:
        self.app = app
        self.hostnames = hostnames

    def refusal(self, scope: Scope) -> str | None:
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if self.hostnames is not None and _hostname(host) not in self.hostnames:
            return (f"this server doesn't answer to the host name {_hostname(host)[:80]!r}: open it as "
                    f"http://{sorted(self.hostnames)[0]}, or add the name to the allowed_hosts setting")
        if scope["method"] in SAFE_METHODS:
            return None
        # Browsers send Origin with every cross-site POST (forms and sendBeacon too); clients
        # such as curl send none and are not a browser another site could drive.
        origin = headers.get("origin")
        if origin is not None and (origin == "null" or urlsplit(origin).netloc.lower() != host.lower()):
            return "a request from another site can't change answers: open the page from this server"
        if headers.get("sec-fetch-site") == "cross-site":
            return "a request from another site can't change answers: open the page from this server"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
            await send(message)

        if refusal:
            body = json.dumps({"error": refusal, "refused": []}).encode()
            await send_with_headers({"type": "http.response.start", "status": 403,
                                     "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send_with_headers({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send_with_headers)
