"""FakeSms: a loopback stand-in for an SMS provider's REST API (Twilio's shape), for the real
RestSms client. `fail_next(status)` queues failures answered before normal handling resumes;
`messages` are the texts it accepted, `calls` every request it received."""

import base64
import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self, TypedDict
from urllib.parse import parse_qsl

ACCOUNT = "AC0TEST"
TOKEN = "sms-token"


class Sms(TypedDict):
    to: str
    sender: str
    body: str


class FakeSms:
    def __init__(self) -> None:
        self.messages: list[Sms] = []
        self.calls = 0
        self._failures: deque[int] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/2010-04-01"

    def fail_next(self, status: int, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([status] * times)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, path: str, authorization: str, form: dict[str, str]) -> tuple[int, dict]:
        with self._lock:
            self.calls += 1
            if self._failures:
                return self._failures.popleft(), {"message": "provider trouble"}
            expected = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
            if authorization != expected:
                return 401, {"message": "authenticate"}
            if path != f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json":
                return 404, {"message": "no such resource"}
            if not form.get("To", "").startswith("+") or not form.get("Body"):
                return 400, {"message": "To and Body are required"}
            self.messages.append(Sms(to=form["To"], sender=form.get("From", ""), body=form["Body"]))
            return 201, {"sid": f"SM{len(self.messages):032d}", "status": "queued"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                code, body = fake._answer(self.path, self.headers.get("Authorization", ""), form)
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
