"""One Jinja2 environment for every message and report serviceops writes.

Templates are files under `templates/`. Escaping lives here, not in the templates, so that a
template author cannot forget it:

- `*.json.j2` are Slack messages: a JSON document `{"text": ..., "blocks": [...]}`. Every
  `{{ expr }}` output goes through `finalize`, which Slack-escapes it (& < > become entities, so
  a user title of `<!channel>` cannot ping anyone) and then JSON-string-escapes it (so quotes,
  backslashes and newlines cannot break the document). Every expression therefore belongs
  inside a JSON string; structure (objects, arrays, commas) is written literally in the
  template. A filter that deliberately builds Slack markup (`mention`) returns `SlackSafe`,
  which skips the Slack escaping but never the JSON escaping.
- `*.md.j2` are markdown reports (Prefect artifacts): no escaping, but still sandboxed and
  StrictUndefined. Use the `cell` filter for user text inside a table.

The environment is sandboxed (templates cannot reach Python internals) and uses
StrictUndefined (a missing variable or attribute raises instead of rendering as nothing).
A bare `None` output raises too: write `{{ x or "none" }}` or `{% if x %}` so that a message
never says "Support group: None".
"""

import json
import re
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined, TemplateRuntimeError, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel

from serviceops.domain.incident import SlaClock
from serviceops.domain.oncall import SLACK_USER_GROUP
from serviceops.domain.priority import Priority

TEMPLATES = Path(__file__).with_name("templates")
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_SLACK_USER_GROUP = re.compile(SLACK_USER_GROUP)


class RenderError(ValueError):
    """A template rendered something that is not a valid Slack message (a template bug)."""


class SlackMessage(BaseModel):
    """What chat.postMessage takes besides the channel: fallback text and Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]]


class SlackSafe(str):
    """Text that is already valid Slack markup (built by a filter from checked parts).

    Only Slack escaping is skipped for it; JSON escaping still applies, so it can never break
    the message document.
    """

    __slots__ = ()


def slack_escape(text: str) -> str:
    """Slack's three control characters as entities; `&` first so entities stay intact."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _json_fragment(text: str) -> str:
    """The inside of a JSON string literal for `text` (quotes, backslashes, control chars)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _is_json_template(name: str | None) -> bool:
    """Markdown reports and plain text (mail, SMS) opt out by name; anything else (also
    unnamed) gets the strict mode."""
    return not (name or "").endswith((".md.j2", ".txt.j2"))


# --- filters ---------------------------------------------------------------------------------


def when(value: datetime | None, tz: str = "UTC") -> str:
    """`2026-11-26 14:05 UTC`: minutes are enough for people, the zone is always shown."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        raise TemplateRuntimeError("naive datetime given to a template")
    return value.astimezone(UTC if tz == "UTC" else ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")


def duration(value: timedelta | float | None) -> str:
    """Largest two units, e.g. `2d 3h`, `1h 05m`, `12m`, `45s`; negative gets a minus sign."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days}d {hours}h" if hours else f"{days}d"
    elif hours:
        text = f"{hours}h {minutes:02d}m"
    elif minutes:
        text = f"{minutes}m"
    else:
        text = f"{secs}s"
    return sign + text


def left(value: timedelta | None) -> str:
    """Time to a target: `2h 05m`, `overdue 12m`, or `—` without a running clock."""
    if value is None:
        return "—"
    if value < timedelta(0):
        return f"overdue {duration(-value)}"
    return duration(value)


def since(start: datetime | None, now: datetime) -> str:
    """Time elapsed from `start` to `now` as a duration."""
    return "—" if start is None else duration(now - start)


def priority_label(value: Priority | int | None) -> str:
    """`P1 Critical`; an incident not yet prioritised says so."""
    return "unprioritised" if value is None else Priority(value).label


def human(value: Any) -> str:
    """Enum values and snake_case words for people: `in_progress` -> `in progress`."""
    if value is None:
        return "—"
    if isinstance(value, Enum):
        value = value.value
    return str(value).replace("_", " ")


def due(clock: SlaClock | None, tz: str = "UTC") -> str:
    """Where an SLA clock stands in words: a due time, paused, met/missed, or no target."""
    if clock is None:
        return "no target"
    if clock.stopped_at is not None:
        missed = clock.due_at is not None and clock.stopped_at > clock.due_at
        return f"{'missed' if missed else 'met'} at {when(clock.stopped_at, tz)}"
    if clock.paused_at is not None:
        return f"paused ({duration(clock.remaining)} left)"
    return when(clock.due_at, tz)


def clip(value: str | None, length: int = 300) -> str:
    """Cut long user text before it hits Slack's block limits (3000 chars per section)."""
    text = "" if value is None else str(value)
    return text if len(text) <= length else text[: max(length - 1, 0)].rstrip() + "…"


@pass_context
def mention(context: Context, value: str | None) -> str:
    """A Slack user id (U…/W…) or user group id (S…) becomes a real mention; anything else
    stays inert text."""
    if value is None:
        return "—"
    if _is_json_template(context.name) and _SLACK_USER_ID.match(value):
        return SlackSafe(f"<@{value}>")
    if _is_json_template(context.name) and _SLACK_USER_GROUP.match(value):
        return SlackSafe(f"<!subteam^{value}>")
    return value


def cell(value: Any) -> str:
    """User text made safe for one markdown table cell (pipes and line breaks)."""
    if value is None:
        return "—"
    text = str(value.value if isinstance(value, Enum) else value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


# --- output finalization ---------------------------------------------------------------------


def _as_text(value: Any) -> str:
    if value is None:
        raise TemplateRuntimeError(
            "a template printed None: use `{{ x or '…' }}` or `{% if x %}` for optional values"
        )
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, timedelta):
        return duration(value)
    if isinstance(value, Priority):
        return value.label
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)  # a StrictUndefined raises here


@pass_context
def _finalize(context: Context, value: Any) -> str:
    """Runs on every `{{ expr }}` output (never on literal template text)."""
    text = _as_text(value)
    if not _is_json_template(context.name):
        return text
    if not isinstance(value, SlackSafe):
        text = slack_escape(text)
    return _json_fragment(text)


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """The one environment (built on first use, not at import)."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        finalize=_finalize,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(
        when=when,
        duration=duration,
        since=since,
        left=left,
        priority=priority_label,
        human=human,
        due=due,
        clip=clip,
        mention=mention,
        cell=cell,
    )
    return env


def _template_name(template: str, suffix: str) -> str:
    return template if template.endswith(".j2") else f"{template}{suffix}"


def render_message(template: str, **context: Any) -> SlackMessage:
    """Render `templates/<template>.json.j2` into a Slack message, checked to be valid JSON."""
    name = _template_name(template, ".json.j2")
    if not _is_json_template(name):
        raise RenderError(f"{name} is a markdown template; use render_text")
    rendered = environment().get_template(name).render(**context)
    try:
        document = json.loads(rendered)
    except json.JSONDecodeError as error:
        line = rendered.splitlines()[error.lineno - 1] if rendered else ""
        raise RenderError(
            f"{name} rendered invalid JSON at line {error.lineno} col {error.colno}: "
            f"{error.msg}: {line.strip()[:200]!r}"
        ) from None
    try:
        return SlackMessage.model_validate(document)
    except ValueError as error:
        raise RenderError(f"{name} did not render a Slack message: {error}") from None


def render_text(template: str, **context: Any) -> str:
    """Render `templates/<template>.md.j2` (a markdown report, e.g. a Prefect artifact), or a
    `.txt.j2` named in full (a mail's or an SMS's plain text)."""
    name = _template_name(template, ".md.j2")
    if _is_json_template(name):
        raise RenderError(f"{name} is a Slack template; use render_message")
    return environment().get_template(name).render(**context)
