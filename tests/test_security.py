"""Cross-site requests against the real server: other Host names and other sites' posts are
refused, the page's own requests (and sendBeacon's text/plain) still work, and every response
carries the CSP, frame and nosniff headers."""

from __future__ import annotations

from typing import Any

import httpx
from conftest import SAMPLE_SPANS

from binanno.security import allowed_hostnames

ANSWER = {"answers": [{"text": "x", "answer": "accept"}], "session_id": None}


def test_allowed_hostnames() -> None:
    assert allowed_hostnames("127.0.0.1") == {"127.0.0.1", "localhost", "::1"}
    assert allowed_hostnames("0.0.0.0") is None and allowed_hostnames("10.0.0.5", ["*"]) is None
    assert allowed_hostnames("10.0.0.5", ["box.lan:8080", ""]) == {"10.0.0.5", "box.lan"}


def test_other_hosts_and_sites_are_refused(start_server: Any) -> None:
    server = start_server("mark", "ds", str(SAMPLE_SPANS))
    url = server.url
    page = httpx.get(url + "/", timeout=60)
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    # DNS rebinding: evil.example resolving to 127.0.0.1 reaches the server with its own Host.
    rebound = httpx.get(url + "/project", headers={"Host": f"evil.example:{server.port}"}, timeout=60)
    assert rebound.status_code == 403 and "allowed_hosts" in rebound.json()["error"]
    assert httpx.get(url + "/project", headers={"Host": f"localhost:{server.port}"}, timeout=60).status_code == 200
    # A form on another site posts text/plain with its own Origin.
    for origin in ("http://evil.example", "null", f"http://localhost:{server.port}"):
        forged = httpx.post(url + "/give_answers", content='{"answers": [{"text": "x", "answer": "accept"}]}',
                            headers={"content-type": "text/plain", "origin": origin}, timeout=60)
        assert forged.status_code == 403, origin
    fetched = httpx.post(url + "/give_answers", json=ANSWER, headers={"sec-fetch-site": "cross-site"}, timeout=60)
    assert fetched.status_code == 403
    assert httpx.get(url + "/status", timeout=60).json()["status"]["answered"] == 0
    # The page's own requests: same Origin, and sendBeacon's text/plain.
    own = httpx.post(url + "/give_answers", content='{"answers": [{"text": "x", "answer": "accept"}]}',
                     headers={"content-type": "text/plain", "origin": url, "sec-fetch-site": "same-origin"}, timeout=60)
    assert own.status_code == 200 and own.json()["stored"] == 1


def test_allowed_hosts_adds_a_name(start_server: Any) -> None:
    server = start_server("mark", "ds", str(SAMPLE_SPANS), env={"BINANNO_ALLOWED_HOSTS": "annotate.lan"})
    assert httpx.get(server.url + "/project", headers={"Host": "annotate.lan"}, timeout=60).status_code == 200
    assert httpx.get(server.url + "/project", headers={"Host": "other.lan"}, timeout=60).status_code == 403
