"""Process settings from the environment (prefix SERVICEOPS_) or a .env file.

Nothing is read at import time: call `get_settings()` where a value is needed, so tests and
subprocesses can change the environment first.
"""

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEOPS_", env_file=".env", extra="ignore")

    state_dir: Path = Field(Path(".serviceops"), description="Where local state lives.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the serviceops database; default SQLite in state_dir."
    )
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    prefect_host: str = Field("127.0.0.1", description="Where `make up` starts the Prefect server.")
    prefect_port: int = 4200
    api_token: SecretStr | None = Field(None, description="Bearer token of the read API.")
    webhook_secrets: Annotated[dict[str, list[SecretStr]], NoDecode] = Field(default_factory=dict)
    alertmanager_token: SecretStr | None = Field(
        None, description="Bearer token Alertmanager sends (http_config.authorization)."
    )
    slack_token: SecretStr | None = None
    slack_base_url: str = "https://slack.com/api/"
    slack_signing_secret: SecretStr | None = None
    slack_response_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["hooks.slack.com"],
        description=(
            "Where replies to Slack interactions may be posted (a payload's response_url): "
            "hosts reached over https on the default port; an entry scheme://host:port allows "
            "exactly that origin (a loopback endpoint in tests)."
        ),
    )
    public_url: str | None = Field(
        None,
        description=(
            "Where people reach the gateway (https://desk.example.org), the base of the "
            "acknowledge links in pages sent by mail and SMS; unset: no links."
        ),
    )
    page_link_secret: SecretStr | None = Field(
        None, description="Signs pages' acknowledge links; default: the one `make up` made."
    )
    smtp_host: str | None = Field(None, description="Mail server for pages; empty: no mail.")
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "serviceops@localhost"
    sms_base_url: str | None = Field(
        None, description="The SMS provider's REST API (Twilio's shape); empty: no SMS."
    )
    sms_account: str | None = None
    sms_token: SecretStr | None = None
    sms_from: str | None = Field(None, description="The number SMS are sent from (E.164).")
    cmdb_file: Path = Field(
        Path("cmdb.toml"),
        description=(
            "The service catalogue (CMDB) file `make up` and `serviceops services load` read."
        ),
    )

    @field_validator("webhook_secrets", mode="before")
    @classmethod
    def _parse_pairs(cls, value: object) -> object:
        """`source=secret,source=secret2` -> {source: [secret, secret2]} (rotation)."""
        if not isinstance(value, str):
            return value
        pairs: dict[str, list[str]] = {}
        for item in filter(None, (p.strip() for p in value.split(","))):
            source, sep, secret = item.partition("=")
            if not sep or not source or not secret:
                raise ValueError(f"expected source=secret, got {item!r}")
            pairs.setdefault(source.strip(), []).append(secret.strip())
        return pairs

    @field_validator("slack_response_hosts", mode="before")
    @classmethod
    def _parse_hosts(cls, value: object) -> object:
        """`hooks.slack.com,http://127.0.0.1:9` -> [hooks.slack.com, http://127.0.0.1:9]."""
        if not isinstance(value, str):
            return value
        return [item for item in (p.strip() for p in value.split(",")) if item]

    @field_validator("slack_response_hosts")
    @classmethod
    def _check_hosts(cls, value: list[str]) -> list[str]:
        return [_response_host(entry) for entry in value]

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.state_dir / 'serviceops.db').resolve()}"

    @property
    def prefect_api_url(self) -> str:
        return f"http://{self.prefect_host}:{self.prefect_port}/api"

    @property
    def api_token_file(self) -> Path:
        return self.state_dir / "api-token"

    @property
    def page_link_secret_file(self) -> Path:
        return self.state_dir / "page-link-secret"

    def read_page_link_secret(self) -> str | None:
        return _configured_or_generated(self.page_link_secret, self.page_link_secret_file)

    @property
    def alertmanager_token_file(self) -> Path:
        return self.state_dir / "alertmanager-token"

    def read_alertmanager_token(self) -> str | None:
        return _configured_or_generated(self.alertmanager_token, self.alertmanager_token_file)

    def read_api_token(self) -> str | None:
        return _configured_or_generated(self.api_token, self.api_token_file)


def _configured_or_generated(configured: SecretStr | None, generated: Path) -> str | None:
    """The configured secret, else the one `make up` generated into the state dir; an empty
    one is none."""
    if configured is not None:
        return configured.get_secret_value() or None
    if generated.exists():
        return generated.read_text().strip() or None
    return None


_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")


def _response_host(entry: str) -> str:
    """A host name, or an http(s) origin without path or credentials; lowercase, as URLs'
    hosts are compared. Anything else is refused: a typo must not widen where replies go."""
    entry = entry.strip().lower()
    if "://" not in entry:
        if _HOST.match(entry):
            return entry
    else:
        parts = urlsplit(entry)
        bare = not (parts.path or parts.query or parts.fragment or "@" in parts.netloc)
        if parts.scheme in ("http", "https") and parts.hostname and bare:
            return f"{parts.scheme}://{parts.netloc}"
    raise ValueError(f"expected a host or scheme://host:port, got {entry!r}")


@lru_cache
def get_settings() -> Settings:
    return Settings()
