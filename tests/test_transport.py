"""One send per response: a connection's writes in one event-loop step go out as one write, in order."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import httpx

from binanno.transport import CoalescingTransport, http_protocol


class Recorder:
    """A stand-in transport that records what reaches it."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else None


def test_writes_in_one_loop_step_become_one_write_in_order() -> None:
    async def main() -> Recorder:
        inner = Recorder()
        transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(bytearray(b"body"))  # a buffer the caller may reuse is copied
        assert inner.writes == []  # nothing yet: the loop step isn't over
        await asyncio.sleep(0)
        assert inner.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
        transport.write(b"next")
        await asyncio.sleep(0)
        assert inner.writes[-1] == b"next"
        assert transport.get_extra_info("peername") == ("127.0.0.1", 1)  # everything else is the transport's
        transport.write(b"last words")
        transport.close()  # what was written before close still goes, before the close
        assert inner.writes[-1] == b"last words" and inner.closed
        return inner

    inner = asyncio.run(main())
    assert len(inner.writes) == 3


def test_nothing_is_written_to_a_closing_transport() -> None:
    async def main() -> Recorder:
        inner = Recorder()
        transport = CoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"late")
        inner.closed = True  # the client went away meanwhile
        await asyncio.sleep(0)
        return inner

    assert asyncio.run(main()).writes == []


def test_a_real_uvicorn_server_answers_keep_alive_requests_and_streams_through_it() -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    async def small(request: Any) -> JSONResponse:
        return JSONResponse({"n": int(request.query_params["n"])})

    async def streamed(request: Any) -> StreamingResponse:
        async def parts() -> Any:
            for i in range(3):
                yield f"part {i};".encode()
                await asyncio.sleep(0.01)
        return StreamingResponse(parts())

    app = Starlette(routes=[Route("/small", small), Route("/streamed", streamed)])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, http=http_protocol(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 10
        while not server.started and time.time() < deadline:
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:  # one keep-alive connection
            assert [client.get("/small", params={"n": n}).json()["n"] for n in range(20)] == list(range(20))
            assert client.get("/streamed").text == "part 0;part 1;part 2;"
    finally:
        server.should_exit = True
        thread.join(10)
