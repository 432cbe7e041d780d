"""Slack configuration: credentials and the channel routing that operators manage in the UI.

prefect-slack's SlackCredentials returns an AsyncWebClient without a base_url, and serviceops
needs a sync client it can point at a Slack-compatible endpoint and give retry handlers, so
this block carries its own `get_client()`.
"""

from prefect.blocks.core import Block
from pydantic import Field, SecretStr
from slack_sdk import WebClient

from blocks.saved import load_saved
from serviceops.domain.incident import Route, route
from serviceops.domain.priority import Priority
from serviceops.notify.slack import make_client
from serviceops.settings import get_settings


class SlackBlock(Block):
    """Where serviceops talks in Slack. With no token, messages wait in the outbox."""

    _block_type_name = "ServiceOps Slack"
    _block_type_slug = "serviceops-slack"
    _description = "Slack token, API endpoint and channel routing for serviceops."

    token: SecretStr | None = Field(
        None, description="Bot token (xoxb-...). Empty: SERVICEOPS_SLACK_TOKEN, else no delivery."
    )
    base_url: str | None = Field(
        None, description="Web API endpoint; empty: SERVICEOPS_SLACK_BASE_URL or Slack's own."
    )
    default_channel: str = Field("#service-desk", description="Where unrouted messages go.")
    management_channel: str = Field(
        "#incident-management", description="Hierarchic escalations and major incidents."
    )
    channel_routes: list[Route] = Field(
        default_factory=list,
        description="First match by service, category and priority wins; target is a channel.",
    )
    major_incident_members: list[str] = Field(
        default_factory=list, description="Slack user ids invited to every major incident channel."
    )

    def channel_for(self, *, service: str, category: str, priority: Priority) -> str:
        return route(
            self.channel_routes,
            self.default_channel,
            service=service,
            category=category,
            priority=priority,
        )

    def get_client(self) -> WebClient | None:
        """A client for the configured endpoint, or None when no token is configured anywhere."""
        settings = get_settings()
        token = self.token or settings.slack_token
        if token is None or not token.get_secret_value():
            return None
        return make_client(token.get_secret_value(), self.base_url or settings.slack_base_url)


def load_slack() -> SlackBlock:
    """The operator's Slack block if one is saved, else settings from the environment."""
    return load_saved(SlackBlock)
