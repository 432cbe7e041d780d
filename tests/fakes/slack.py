"""FakeSlack: a loopback stand-in for Slack's Web API, for the real slack-sdk client.

Why a server and not a mock: the code under test uses slack_sdk.WebClient unchanged (its
retry handlers, its encoding of form and JSON bodies, its error parsing), pointed at this
server with `base_url`. Failures (429 with Retry-After, 5xx, API errors) are queued with
`fail_next` and answered in order before normal handling resumes.

Only what serviceops calls is implemented: auth.test, chat.postMessage (in a thread too),
chat.update (the message changes in place), views.open (recorded), conversations.create,
conversations.list, conversations.invite, conversations.setTopic.
"""

import json
import re
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, TypedDict
from urllib.parse import parse_qsl, urlsplit

BOT_USER = "U0BOT"
_CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
Params = dict[str, Any]


class Call(TypedDict):
    """One request as received: the API method and its merged query/form/JSON parameters."""

    method: str
    params: Params


class Message(TypedDict):
    """A message chat.postMessage accepted. `channel` is what the client posted to (a name
    like "#payments" or an id), `channel_id` the channel it landed in, `ts` its timestamp."""

    channel: str
    channel_id: str
    text: str
    blocks: list[dict[str, Any]]
    ts: str
    thread_ts: str | None


@dataclass
class Channel:
    id: str
    name: str
    members: set[str] = field(default_factory=set)
    topic: str = ""
    archived: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": True,
            "is_private": False,
            "is_archived": self.archived,
            "num_members": len(self.members),
            "topic": {"value": self.topic},
        }


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: int | None
    body: dict[str, Any] | str


class FakeSlack:
    """Slack Web API on 127.0.0.1:<free port>; use as a context manager.

    `token`: the bearer token to accept (None accepts any non-empty token).
    `strict_channels`: chat.postMessage to an unknown channel answers channel_not_found;
    otherwise (default) a channel named in a post is created on the fly.
    """

    def __init__(self, token: str | None = "xoxb-test", *, strict_channels: bool = False) -> None:
        self.token = token
        self.strict_channels = strict_channels
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._messages: list[Message] = []
        self._channels: dict[str, Channel] = {}
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._ts_counter = 0
        self._channel_counter = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def reset(self) -> None:
        """Forget calls and messages (channels stay), for tests sharing one fake."""
        with self._lock:
            self._calls.clear()
            self._messages.clear()

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    # --- inspection and setup ----------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every request so far, failed ones included (a snapshot)."""
        with self._lock:
            return list(self._calls)

    @property
    def messages(self) -> list[Message]:
        """Every message chat.postMessage accepted, in order (a snapshot)."""
        with self._lock:
            return list(self._messages)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call["method"] == method]

    def channel(self, name: str) -> Channel | None:
        """The channel called `name` (a copy), or None."""
        with self._lock:
            found = self._by_name(name)
            if found is None:
                return None
            return Channel(found.id, found.name, set(found.members), found.topic, found.archived)

    def add_channel(self, name: str, members: tuple[str, ...] = ()) -> str:
        """Create a channel as if someone made it in Slack; its id."""
        with self._lock:
            return self._create_channel(name, set(members)).id

    def fail_next(
        self,
        method: str,
        status: int,
        *,
        retry_after: int | None = None,
        times: int = 1,
        body: dict[str, Any] | str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` with `status` (and Retry-After, body)."""
        if body is None:
            error = {429: "ratelimited"}.get(status, "internal_error" if status >= 500 else "fake")
            body = {"ok": False, "error": error}
        with self._lock:
            self._failures[method].extend(_Failure(status, retry_after, body) for _ in range(times))

    # --- request handling (called from server threads) ---------------------------------------

    def _handle(
        self, method: str, params: Params, auth: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any] | str]:
        with self._lock:
            self._calls.append(Call(method=method, params=params))
            token = auth or params.get("token")
            if not token:
                return 200, {}, {"ok": False, "error": "not_authed"}
            if self.token is not None and token != self.token:
                return 200, {}, {"ok": False, "error": "invalid_auth"}
            queue = self._failures.get(method)
            if queue:
                failure = queue.popleft()
                headers = {}
                if failure.retry_after is not None:
                    headers["Retry-After"] = str(failure.retry_after)
                return failure.status, headers, failure.body
            handler = self._methods().get(method)
            if handler is None:
                return 200, {}, {"ok": False, "error": "unknown_method"}
            return 200, {}, handler(params)

    def _methods(self) -> dict[str, Callable[[Params], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "views.open": self._open_view,
            "conversations.create": self._conversations_create,
            "conversations.list": self._conversations_list,
            "conversations.invite": self._conversations_invite,
            "conversations.setTopic": self._conversations_set_topic,
        }

    def _auth_test(self, params: Params) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": "Fake",
            "user": "serviceops",
            "team_id": "T0FAKE",
            "user_id": BOT_USER,
            "bot_id": "B0FAKE",
        }

    def _post_message(self, params: Params) -> dict[str, Any]:
        target = str(params.get("channel") or "")
        channel = self._resolve(target)
        if channel is None:
            if self.strict_channels or not target:
                return {"ok": False, "error": "channel_not_found"}
            channel = self._create_channel(target.lstrip("#"), set())
        blocks = params.get("blocks") or []
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except json.JSONDecodeError:
                return {"ok": False, "error": "invalid_blocks_format"}
        text = str(params.get("text") or "")
        if not text and not blocks:
            return {"ok": False, "error": "no_text"}
        self._ts_counter += 100
        ts = f"{1_700_000_000 + self._ts_counter // 1_000_000}.{self._ts_counter % 1_000_000:06d}"
        thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
        self._messages.append(
            Message(
                channel=target,
                channel_id=channel.id,
                text=text,
                blocks=blocks,
                ts=ts,
                thread_ts=thread_ts,
            )
        )
        message = {"type": "message", "text": text, "blocks": blocks, "ts": ts, "bot_id": "B0FAKE"}
        return {"ok": True, "channel": channel.id, "ts": ts, "message": message}

    def _update_message(self, params: Params) -> dict[str, Any]:
        channel, ts = str(params.get("channel") or ""), str(params.get("ts") or "")
        for message in self._messages:
            if message["channel_id"] == channel and message["ts"] == ts:
                blocks = params.get("blocks") or []
                message["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks
                message["text"] = str(params.get("text") or "")
                return {"ok": True, "channel": channel, "ts": ts, "text": message["text"]}
        return {"ok": False, "error": "message_not_found"}

    def _open_view(self, params: Params) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_arguments"}
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        return {"ok": True, "view": {"id": f"V{len(self._calls):06d}", **(view or {})}}

    def _conversations_create(self, params: Params) -> dict[str, Any]:
        name = str(params.get("name") or "")
        if not _CHANNEL_NAME.match(name):
            return {"ok": False, "error": "invalid_name_specials"}
        if self._by_name(name) is not None:
            return {"ok": False, "error": "name_taken"}
        return {"ok": True, "channel": self._create_channel(name, {BOT_USER}).as_json()}

    def _conversations_list(self, params: Params) -> dict[str, Any]:
        channels = sorted(self._channels.values(), key=lambda c: c.id)
        if str(params.get("exclude_archived", "")).lower() in ("1", "true"):
            channels = [c for c in channels if not c.archived]
        start = int(params.get("cursor") or 0)
        limit = max(1, min(int(params.get("limit") or 100), 1000))
        page = channels[start : start + limit]
        next_cursor = str(start + limit) if start + limit < len(channels) else ""
        return {
            "ok": True,
            "channels": [c.as_json() for c in page],
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_invite(self, params: Params) -> dict[str, Any]:
        channel = self._resolve(str(params.get("channel") or ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            return {"ok": False, "error": "no_user"}
        for user in users:
            if not _USER_ID.match(user):
                return {"ok": False, "error": "user_not_found"}
            if user == BOT_USER:
                return {"ok": False, "error": "cant_invite_self"}
            if user in channel.members:
                return {"ok": False, "error": "already_in_channel"}
        channel.members.update(users)
        return {"ok": True, "channel": channel.as_json()}

    def _conversations_set_topic(self, params: Params) -> dict[str, Any]:
        channel = self._resolve(str(params.get("channel") or ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        topic = str(params.get("topic") or "")
        if len(topic) > 250:
            return {"ok": False, "error": "too_long"}
        channel.topic = topic
        return {"ok": True, "channel": channel.as_json()}

    # --- state helpers (lock held) -----------------------------------------------------------

    def _create_channel(self, name: str, members: set[str]) -> Channel:
        self._channel_counter += 1
        channel = Channel(f"C{self._channel_counter:08d}", name, members)
        self._channels[channel.id] = channel
        return channel

    def _by_name(self, name: str) -> Channel | None:
        return next((c for c in self._channels.values() if c.name == name), None)

    def _resolve(self, target: str) -> Channel | None:
        return self._channels.get(target) or self._by_name(target.lstrip("#"))


class _Handler(BaseHTTPRequestHandler):
    owner: FakeSlack

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        url = urlsplit(self.path)
        method = url.path.rstrip("/").rsplit("/", 1)[-1]
        params: Params = dict(parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if raw and content_type == "application/json":
            try:
                params.update(json.loads(raw))
            except json.JSONDecodeError:
                self._send(200, {}, {"ok": False, "error": "invalid_json"})
                return
        elif raw:
            params.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        authorization = self.headers.get("Authorization") or ""
        bearer = authorization[7:].strip() if authorization.startswith("Bearer ") else None
        status, headers, body = self.owner._handle(method, params, bearer)
        self._send(status, headers, body)

    def _send(self, status: int, headers: dict[str, str], body: dict[str, Any] | str) -> None:
        if isinstance(body, str):
            payload, content_type = body.encode("utf-8"), "text/html; charset=utf-8"
        else:
            payload, content_type = json.dumps(body).encode("utf-8"), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr lines."""
