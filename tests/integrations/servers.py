"""Real servers on loopback for the integration tests, and their fixtures.

* ``target_server`` (127.0.0.1, allow-listed by the tests): echo, status codes,
  redirects, big and slow bodies, an OAuth2 token endpoint and a protected
  resource, a Slack incoming-webhook look-alike, and JSON documents a test
  puts in ``state["documents"]`` (served at ``/documents/<name>``).
* ``internal_server`` (127.0.0.2) and ``internal_v6_server`` ([::1]): stand for
  what must never be reached; every request they get is recorded, and the
  tests assert there were none.
* ``openai_server``: a small OpenAI-compatible API (models, chat completions,
  images) that requires its API key.
* ``smtp_server``: aiosmtpd with AUTH, recording what it receives.

Conftests import the fixtures from here.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

OPENAI_KEY = "sk-test-key-1234567890abcdef"
SMTP_USER = "mailer"
SMTP_PASSWORD = "smtp-password-0123456789"
BASIC_USER, BASIC_PASSWORD = "alice", "basic-password-0123456789"


class RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, family: int = socket.AF_INET) -> None:
        self.address_family = family
        self.hits: list[dict[str, Any]] = []
        self.raw_bodies: list[bytes] = []  # each hit's body as received (``hits`` hold it decoded, for /echo)
        self.state: dict[str, Any] = {}
        self.lock = threading.Lock()
        super().__init__(address, handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def reset(self) -> None:
        with self.lock:
            self.hits.clear()
            self.raw_bodies.clear()
            self.state.clear()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RecordingServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, delayed ACKs add ~40 ms to each answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _record(self) -> dict[str, Any]:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        hit = {
            "method": self.command,
            "path": parts.path,
            "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        with self.server.lock:
            self.server.hits.append(hit)
            self.server.raw_bodies.append(body)
        return hit

    def _send(self, status: int, body: Any = b"", content_type: str = "application/json", headers: dict | None = None):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode() if content_type == "application/json" else str(body).encode()
        if status in (204, 304):  # no body may follow: it would corrupt the next answer on a kept-alive connection
            body = b""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        self.handle_any()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def handle_any(self) -> None:
        raise NotImplementedError


class InternalHandler(BaseHandler):
    """Anything reaching this is a failed guard."""

    def handle_any(self) -> None:
        self._record()
        self._send(200, {"secret": "internal data"})


class TargetHandler(BaseHandler):
    def handle_any(self) -> None:
        hit = self._record()
        path, query = hit["path"], hit["query"]
        state = self.server.state
        if path == "/echo":
            self._send(200, hit, headers={"Set-Cookie": "session=abc; Path=/"})
        elif path.startswith("/status/"):
            self._send(int(path.rsplit("/", 1)[1]), {"error": "as asked", "status": int(path.rsplit("/", 1)[1])})
        elif path == "/text":
            self._send(200, "hello, text", content_type="text/plain; charset=utf-8")
        elif path == "/redirect":
            self._send(int(query.get("code", 302)), b"", headers={"Location": query["to"]})
        elif path == "/big":
            self._send(200, b"x" * int(query["bytes"]), content_type="text/plain")
        elif path == "/big-chunked":
            self._chunked(int(query["bytes"]))
        elif path == "/slow":
            time.sleep(float(query.get("seconds", 2)))
            self._send(200, {"slept": True})
        elif path == "/basic":
            expected = "Basic " + base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()
            ok = hit["headers"].get("authorization") == expected
            self._send(200 if ok else 401, {"ok": ok})
        elif path == "/bearer":
            ok = hit["headers"].get("authorization") == f"Bearer {state.get('bearer', 'bearer-token-0123456789')}"
            self._send(200 if ok else 401, {"ok": ok})
        elif path == "/apikey":
            ok = (
                hit["headers"].get("x-api-key") == "key-0123456789abcdef"
                or query.get("api_key") == "key-0123456789abcdef"
            )
            self._send(200 if ok else 403, {"ok": ok})
        elif path == "/oauth/token":
            form = {k: v[0] for k, v in parse_qs(hit["body"]).items()}
            if form.get("grant_type") == "refresh_token" and form.get("refresh_token") == state.get("refresh_token"):
                count = state["refreshes"] = state.get("refreshes", 0) + 1
                state["access_token"] = f"fresh-access-token-{count:04d}"
                state["refresh_token"] = f"rotated-refresh-token-{count:04d}"
                self._send(
                    200,
                    {
                        "access_token": state["access_token"],
                        "refresh_token": state["refresh_token"],
                        "token_type": "bearer",
                        "expires_in": 3600,
                    },
                )
            else:
                self._send(400, {"error": "invalid_grant", "error_description": "Unknown refresh token"})
        elif path == "/oauth/protected":
            ok = hit["headers"].get("authorization") == f"Bearer {state.get('access_token')}"
            self._send(200 if ok else 401, {"ok": ok, "auth": hit["headers"].get("authorization")})
        elif path.startswith("/documents/"):
            name = path.removeprefix("/documents/")
            documents = state.get("documents", {})
            if name in documents:
                self._send(200, documents[name])
            else:
                self._send(404, {"error": "no such document"})
        elif path.startswith("/slack/"):
            if path.endswith("/gone"):
                self._send(404, "no_service", content_type="text/plain")
            else:
                state.setdefault("slack", []).append(json.loads(hit["body"] or "{}"))
                self._send(200, "ok", content_type="text/plain")
        else:
            self._send(404, {"error": "no such path"})

    def _chunked(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"y" * 65536
        sent = 0
        try:
            while sent < size:
                part = chunk[: min(len(chunk), size - sent)]
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                sent += len(part)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading at its cap


class OpenAIHandler(BaseHandler):
    """Enough of the OpenAI API: /v1/models, /v1/chat/completions, /v1/images/generations."""

    def handle_any(self) -> None:
        hit = self._record()
        if hit["headers"].get("authorization") != f"Bearer {OPENAI_KEY}":
            self._send(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
            return
        request = json.loads(hit["body"]) if hit["body"] else {}
        model = request.get("model", "")
        if model == "broken":
            self._send(500, {"error": {"message": "The server had an error"}})
        elif model == "busy":
            self._send(429, {"error": {"message": "Rate limit reached"}}, headers={"Retry-After": "7"})
        elif model == "unknown":
            self._send(404, {"error": {"message": "The model `unknown` does not exist"}})
        elif hit["path"] == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": "gpt-4o-mini"}, {"id": "test-vision"}]})
        elif hit["path"] == "/v1/chat/completions":
            self._chat(request)
        elif hit["path"] == "/v1/images/generations":
            images = [{"b64_json": base64.b64encode(b"\x89PNG fake").decode(), "revised_prompt": request["prompt"]}]
            self._send(200, {"created": 1, "data": images * int(request.get("n", 1))})
        else:
            self._send(404, {"error": {"message": "Unknown path"}})

    def _chat(self, request: dict[str, Any]) -> None:
        replies = self.server.state.setdefault("replies", [])
        if replies:
            text = replies.pop(0)
        else:
            last = request["messages"][-1]["content"]
            if isinstance(last, list):
                kinds = [part.get("type") for part in last]
                last = f"{len(kinds)} parts: {', '.join(kinds)}"
            text = f"echo: {last}"
        prompt_tokens = sum(len(str(m["content"]).split()) for m in request["messages"])
        completion_tokens = len(text.split())
        self._send(
            200,
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": request.get("model"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )


# --- SMTP --------------------------------------------------------------------------------------


@dataclass
class SMTPRecorder:
    messages: list[dict[str, Any]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "content": envelope.content.decode("utf-8", "replace"),
                "authenticated": bool(session.authenticated),
                "login": getattr(session, "login_data", None),
            }
        )
        return "250 Message accepted"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    if isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (SMTP_USER, SMTP_PASSWORD):
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


@dataclass
class SMTPServer:
    host: str
    port: int
    recorder: SMTPRecorder
    controller: Controller


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def target_server() -> Iterator[RecordingServer]:
    server = RecordingServer(("127.0.0.1", 0), TargetHandler)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def internal_server() -> Iterator[RecordingServer]:
    server = RecordingServer(("127.0.0.2", 0), InternalHandler)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def internal_v6_server() -> Iterator[RecordingServer]:
    server = RecordingServer(("::1", 0), InternalHandler, family=socket.AF_INET6)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def openai_server() -> Iterator[RecordingServer]:
    server = RecordingServer(("127.0.0.1", 0), OpenAIHandler)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SMTPServer]:
    recorder = SMTPRecorder()
    port = _free_port("127.0.0.1")
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_require_tls=False,
        auth_required=False,
    )
    controller.start()
    yield SMTPServer("127.0.0.1", port, recorder, controller)
    controller.stop()


@pytest.fixture
def servers(target_server, internal_server, internal_v6_server, openai_server, settings):
    """Fresh records on every server; the target (127.0.0.1) allow-listed, nothing else."""
    for server in (target_server, internal_server, internal_v6_server, openai_server):
        server.reset()
    settings.FLOWBUILDER_HTTP_ALLOWLIST = ["127.0.0.1"]
    yield
    assert internal_server.hits == [], "the internal server was reached"
    assert internal_v6_server.hits == [], "the internal IPv6 server was reached"
