"""Fixtures for the scanner tests: a local npm advisory server and a closed port."""
from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.scanners.helpers import DATA


@dataclass
class AdvisoryServer:
    url: str
    bulk_requests: list[dict] = field(default_factory=list)
    packument_requests: list[str] = field(default_factory=list)


@pytest.fixture
def advisory_server() -> Iterator[AdvisoryServer]:
    """A registry stand-in on 127.0.0.1 answering the two requests `npm audit` makes."""
    bulk = json.loads((DATA / "npm-advisories-bulk.json").read_text())
    packuments = json.loads((DATA / "npm-packuments.json").read_text())
    server_state = AdvisoryServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if self.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path != "/-/npm/v1/security/advisories/bulk":
                return self._send(404, {"error": "not found"})
            asked = json.loads(body)
            server_state.bulk_requests.append(asked)
            self._send(200, {name: bulk[name] for name in asked if name in bulk})

        def do_GET(self) -> None:  # noqa: N802
            name = self.path.strip("/").replace("%2f", "/").replace("%2F", "/")
            server_state.packument_requests.append(name)
            if name in packuments:
                return self._send(200, packuments[name])
            self._send(404, {"error": "not found"})

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server_state
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port_url() -> str:
    """A local URL nothing listens on: the port was bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
