"""Routine operational checks (ITIL SO 4.1 monitoring and control): what to check, one model
per kind, and the registry of kinds (`CHECK_MODELS`) the unions and schedules are built from.

Everything here is pure (pydantic + stdlib, no I/O): the probes in `serviceops.probes` do the
measuring and call the rule functions of results.py, so the thresholds are tested with plain
numbers and a flow, the CLI and a report all judge a measurement the same way."""

from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Union
from urllib.parse import parse_qsl, urlencode, urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator


class CheckKind(StrEnum):
    HTTP = "http"
    TCP = "tcp"
    TLS = "tls"
    BACKUP = "backup"
    DISK = "disk"
    DATABASE = "database"


class CheckStatus(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"


HIDDEN = "***"
_SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "secret", "token"})


def hide_password(url: str) -> str:
    """The URL with the password of its userinfo (and password-like query values) replaced by
    ***, for anything a person or a log sees. urllib only: the domain may not import
    SQLAlchemy, and `scheme://user:pw@host` is all a database or HTTP URL puts there."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return HIDDEN
    hidden = url  # edited in place: urlunsplit would turn sqlite:///x into sqlite:/x
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        user = userinfo.split(":", 1)[0]
        hidden = hidden.replace(f"//{parts.netloc}", f"//{user}:{HIDDEN}@{hostport}", 1)
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if any(key.lower() in _SECRET_QUERY_KEYS for key, _ in pairs):
            query = urlencode(
                [(k, HIDDEN if k.lower() in _SECRET_QUERY_KEYS else v) for k, v in pairs],
                safe="*",
            )
            hidden = hidden.replace(f"?{parts.query}", f"?{query}", 1)
    return hidden


def _host_port(host: str, port: int) -> str:
    """host:port, with an IPv6 literal in brackets so the port stays readable."""
    bare = host.strip("[]")
    return f"[{bare}]:{port}" if ":" in bare else f"{bare}:{port}"


# --------------------------------------------------------------------------- definitions

CheckName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[a-z0-9][a-z0-9._-]*$",
        title="Name",
        description="Unique check name: lower case letters, digits, '.', '_' and '-'.",
    ),
]
Host = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=r"^[^\s/@?#]+$",
        title="Host",
        description="Host name or IP address (no scheme, no path).",
    ),
]
Timeout = Annotated[float, Field(gt=0, le=120, title="Timeout (s)")]


class _CheckBase(BaseModel):
    """What every kind of check has. A kind is its model: `kind` (a literal), `every_s` (the
    default seconds between two runs, which the catalogue's [schedules] may change) and its
    fields; CHECK_MODELS below is the registry, and serviceops.probes.PROBES its probes."""

    every_s: ClassVar[int]
    echoes_secrets: ClassVar[bool] = False  # True: a probe error shows only its type
    name: CheckName
    service: str = Field(
        min_length=1, max_length=100, title="Service", description="Service the check guards."
    )
    ci: str | None = Field(
        None, max_length=200, title="CI", description="Configuration item, when narrower."
    )


class HttpCheck(_CheckBase):
    """An HTTP(S) endpoint answers with an expected status, fast enough, with a known text."""

    every_s: ClassVar[int] = 300

    kind: Literal["http"] = Field("http", title="Kind")
    url: str = Field(
        min_length=1, max_length=2000, title="URL", description="http:// or https:// URL."
    )
    expect_status: list[int] = Field(
        default_factory=lambda: [200],
        min_length=1,
        title="Expected status",
        description="Any of these statuses is healthy.",
    )
    contains: str | None = Field(
        None,
        min_length=1,
        max_length=1000,
        title="Body contains",
        description="Text that must appear in the response body.",
    )
    max_latency_ms: int = Field(
        2000, gt=0, title="Max latency (ms)", description="Slower answers are a warning."
    )
    timeout_s: Timeout = Field(10, description="Give up (critical) after this many seconds.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
            raise ValueError("URL must not contain whitespace or control characters")
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            raise ValueError("URL scheme must be http or https")
        if not parts.hostname:
            raise ValueError("URL needs a host")
        _ = parts.port  # raises ValueError on a port out of range or not a number
        return url

    @field_validator("expect_status")
    @classmethod
    def _statuses(cls, statuses: list[int]) -> list[int]:
        if any(not 100 <= status <= 599 for status in statuses):
            raise ValueError("HTTP statuses are between 100 and 599")
        return statuses

    @property
    def target(self) -> str:
        return hide_password(self.url)


class TcpCheck(_CheckBase):
    """A port accepts a TCP connection (a service is listening)."""

    every_s: ClassVar[int] = 300

    kind: Literal["tcp"] = Field("tcp", title="Kind")
    host: Host
    port: int = Field(ge=1, le=65535, title="Port")
    timeout_s: Timeout = Field(5, description="Connect timeout in seconds.")

    @property
    def target(self) -> str:
        return _host_port(self.host, self.port)


class TlsCheck(_CheckBase):
    """A TLS endpoint's certificate is not close to expiry."""

    every_s: ClassVar[int] = 3600

    kind: Literal["tls"] = Field("tls", title="Kind")
    host: Host
    port: int = Field(443, ge=1, le=65535, title="Port")
    server_name: str | None = Field(
        None,
        max_length=255,
        title="Server name (SNI)",
        description="Name sent in SNI; the host when empty.",
    )
    warn_days: list[int] = Field(
        default_factory=lambda: [30, 14, 7],
        title="Warn at (days left)",
        description="Thresholds; crossing the smallest is critical, any other a warning.",
    )
    timeout_s: Timeout = Field(10, description="Connect and handshake timeout in seconds.")

    @field_validator("warn_days")
    @classmethod
    def _positive_days(cls, days: list[int]) -> list[int]:
        if any(day < 1 for day in days):
            raise ValueError("thresholds are whole days, at least 1")
        return sorted(set(days), reverse=True)

    @property
    def target(self) -> str:
        return _host_port(self.host, self.port)


class BackupCheck(_CheckBase):
    """The newest backup in a directory is recent, not empty and matches its checksum."""

    every_s: ClassVar[int] = 3600

    kind: Literal["backup"] = Field("backup", title="Kind")
    path: str = Field(min_length=1, title="Directory", description="Where the backups land.")
    pattern: str = Field(
        "*", min_length=1, title="Pattern", description="Glob of backup files, e.g. db-*.dump."
    )
    max_age_hours: float = Field(
        26, gt=0, title="Max age (h)", description="Older newest backup is critical."
    )
    min_size_bytes: int = Field(
        1, ge=0, title="Min size (bytes)", description="Smaller newest backup is critical."
    )
    verify_checksum: bool = Field(
        True,
        title="Verify checksum",
        description="Compare with a sidecar <file>.sha256 when there is one.",
    )
    require_checksum: bool = Field(
        False, title="Require checksum", description="A missing sidecar is critical."
    )

    @property
    def target(self) -> str:
        return self.path


class DiskCheck(_CheckBase):
    """A filesystem has room left."""

    every_s: ClassVar[int] = 600

    kind: Literal["disk"] = Field("disk", title="Kind")
    path: str = Field(min_length=1, title="Path", description="Any path on the filesystem.")
    warn_percent: float = Field(80, ge=0, le=100, title="Warn at (% used)")
    critical_percent: float = Field(90, ge=0, le=100, title="Critical at (% used)")

    @model_validator(mode="after")
    def _ordered(self) -> "DiskCheck":
        if self.critical_percent < self.warn_percent:
            raise ValueError("critical_percent must be at least warn_percent")
        return self

    @property
    def target(self) -> str:
        return self.path


class DatabaseCheck(_CheckBase):
    """A database accepts a connection and answers SELECT 1."""

    every_s: ClassVar[int] = 300
    echoes_secrets: ClassVar[bool] = True  # a driver error may quote the URL

    kind: Literal["database"] = Field("database", title="Kind")
    url: str = Field(
        min_length=1,
        max_length=2000,
        title="Database URL",
        description="SQLAlchemy URL, e.g. postgresql://user:pw@db:5432/app (never shown).",
    )
    timeout_s: Timeout = Field(5, description="Connect timeout in seconds.")

    @property
    def target(self) -> str:
        return hide_password(self.url)


# The kinds of check, one model each (in CheckKind's order; test_registries checks both).
CHECK_MODELS: tuple[type[_CheckBase], ...] = (
    HttpCheck,
    TcpCheck,
    TlsCheck,
    BackupCheck,
    DiskCheck,
    DatabaseCheck,
)
Check = Annotated[Union[CHECK_MODELS], Field(discriminator="kind")]  # noqa: UP007
MODEL_OF_KIND: dict[str, type[_CheckBase]] = {
    model.model_fields["kind"].default: model for model in CHECK_MODELS
}
# Seconds between two runs of each kind of check, unless the catalogue says otherwise.
DEFAULT_SCHEDULES: dict[CheckKind, int] = {
    CheckKind(kind): model.every_s for kind, model in MODEL_OF_KIND.items()
}
*_FIRST_KINDS, _LAST_KIND = (kind.value for kind in CheckKind)
KIND_NAMES = f"{', '.join(_FIRST_KINDS)} or {_LAST_KIND}"  # "http, tcp, ... or database"


class NetworkPolicy(BaseModel):
    """Where network probes (and database checks) may go. Checks are configuration anyone
    with write access to the catalogue can add, so a check must not become a way to read
    cloud metadata, poke at the probe host's own loopback services (SSRF) or find out which
    files exist on it."""

    allow_hosts: list[str] = Field(
        default_factory=list,
        title="Allowed hosts",
        description="Hosts checks may reach besides those of the service catalogue.",
    )
    allow_loopback: bool = Field(
        False, title="Allow loopback", description="127.0.0.0/8 and ::1 (the probe host)."
    )
    allow_private: bool = Field(
        True, title="Allow private", description="RFC 1918, ULA and other non-global ranges."
    )
    allow_link_local: bool = Field(
        False,
        title="Allow link-local",
        description="169.254.0.0/16, fe80::/10 and cloud metadata addresses.",
    )
    allow_database_dirs: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        title="Allowed database directories",
        description="Directories whose files SQLite database checks may open (none by "
        "default: a check could otherwise probe any file); relative ones from the working "
        "directory, like a disk check's path.",
    )


# --------------------------------------------------------------------------- result
