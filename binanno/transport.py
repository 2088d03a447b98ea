"""One send per response: uvicorn's HTTP protocol with the writes of one loop step coalesced.

uvicorn writes a response's status line and headers, then its body, as two ``transport.write``
calls, and asyncio sends each at once: two ``send`` system calls per response, each waking the
client. With 50 sessions saving back to back on 2 cores those sends were 40 % of the server's
CPU time per fetch + save (0.58 s of 1.4 s, cProfile, ``bench/bench_concurrent_saves.py
--client asyncio``). Here a connection's writes wait until the end of the current event-loop
step and go out joined: the same bytes, in the same order, no later than the loop would have
got to them, with one system call.
"""

from __future__ import annotations

import asyncio
from typing import Any

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # no httptools: uvicorn's own choice (h11) stands
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


class CoalescingTransport:
    """A transport whose writes in one loop step become one write; everything else is the transport's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport, self._loop = transport, loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()  # what was written before close still goes, as with asyncio's own transports
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def http_protocol() -> Any:
    """The ``http`` setting for ``uvicorn.Config``: httptools with coalesced writes, or ``"auto"``."""
    if HttpToolsProtocol is None:
        return "auto"

    class Protocol(HttpToolsProtocol):  # type: ignore[misc,valid-type]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self.transport = CoalescingTransport(self.transport, self.loop)  # type: ignore[assignment]

    return Protocol
