"""Reading a Slack interaction payload: who acted (the user id, when it looks like one:
Slack's usernames and display names are chosen by the person and say nothing; the id is
looked up in the directory) and which action of a block_actions payload is ours."""

import re
from collections.abc import Callable
from typing import Any

from serviceops.domain.request import SLACK_USER_ID


def slack_user_id(payload: dict[str, Any]) -> str | None:
    user = payload.get("user")
    user_id = user.get("id") if isinstance(user, dict) else None
    if isinstance(user_id, str) and re.fullmatch(SLACK_USER_ID, user_id):
        return user_id
    return None


def first_action(payload: dict[str, Any], wanted: Callable[[str], bool]) -> dict[str, Any] | None:
    """The first action of a block_actions payload whose action_id is `wanted`, else None."""
    if payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions")
    for action in actions if isinstance(actions, list) else []:
        action_id = action.get("action_id") if isinstance(action, dict) else None
        if isinstance(action_id, str) and wanted(action_id):
            return action
    return None
