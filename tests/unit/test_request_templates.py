"""The request-fulfilment Slack templates: valid Block Kit for every catalogue item, user text
inert, approval buttons that carry what the gateway needs to resume the run."""

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from serviceops.domain.request import (
    CATALOGUE_TYPES,
    ApprovalKind,
    Grant,
    RequestState,
    RequestSubmission,
    ReviewAction,
    ReviewFinding,
    ServiceRequest,
)
from serviceops.notify.render import SlackMessage, render_message

REQUEST_TEMPLATES = (
    "request_approval",
    "request_update",
    "work_order",
    "approval_escalation",
    "access_review",
)
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
HOSTILE = '<!channel> {{ 7*7 }} "quoted" \\ <script>'
SAMPLES: dict[str, dict[str, Any]] = {
    "new_laptop": {"model": "developer", "cost": 2400, "justification": HOSTILE, "deliver_to": "d"},
    "software_install": {"software": "IntelliJ", "host": "pc-42", "licence_cost": 600},
    "password_reset": {"account": HOSTILE},
    "access_grant": {"user": "u", "system": "crm", "role": "user", "justification": HOSTILE},
    "access_revoke": {"user": "u", "system": "crm", "role": "user", "reason": HOSTILE},
    "vpn_access": {"user": "u", "until": "2027-01-31"},
    "shared_mailbox": {"user": "u", "mailbox": "support@example.com", "permission": "send_as"},
}


def sample(type_: str, **overrides: Any) -> ServiceRequest:
    submission = RequestSubmission.model_validate(
        {"requester": HOSTILE, "details": {"type": type_, **SAMPLES[type_]}}
    )
    values: dict[str, Any] = {
        "number": "REQ-000042",
        "requester": submission.requester,
        "details": submission.details,
        "state": RequestState.AWAITING_APPROVAL,
        "source": "portal",
        "created_at": NOW,
        "updated_at": NOW,
        "due_at": NOW,
        "approval_due_at": NOW,
    }
    return ServiceRequest.model_validate(values | overrides)


def context(name: str, request: ServiceRequest) -> dict[str, Any]:
    item = type(request.details).catalogue_item()
    details = request.details.model_dump(mode="json")
    grant = Grant(id=7, user="u", system="crm", role="user", granted_at=NOW, granted_by="t")
    return {
        "request_approval": {
            "request": request,
            "item": item,
            "kind": ApprovalKind.MANAGER,
            "details": details,
            "button_value": json.dumps({"number": request.number, "kind": "manager"}),
        },
        "request_update": {"request": request, "item": item},
        "work_order": {
            "request": request,
            "item": item,
            "step": "order_hardware",
            "details": details,
        },
        "approval_escalation": {"request": request, "item": item, "kind": "manager", "to": "boss"},
        "access_review": {
            "findings": [ReviewFinding(grant=grant, action=ReviewAction.REVOKE, reason="leaver")]
        },
    }[name]


def everything(message: SlackMessage) -> str:
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


@pytest.mark.parametrize("name", REQUEST_TEMPLATES)
@pytest.mark.parametrize("type_", [t.model_fields["type"].default for t in CATALOGUE_TYPES])
def test_renders_valid_block_kit_with_inert_user_text(name: str, type_: str) -> None:
    message = render_message(name, **context(name, sample(type_)))
    assert message.blocks and all("type" in block for block in message.blocks)
    text = everything(message)
    assert "<!channel>" not in text and "<script>" not in text
    assert "49" not in text, "user text is never evaluated as a template"
    for block in message.blocks:
        assert len(block.get("fields", [])) <= 10


def test_approval_buttons_carry_the_resume_key() -> None:
    request = sample("new_laptop")
    message = render_message("request_approval", **context("request_approval", request))
    (actions,) = [b for b in message.blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["approve", "reject"]
    for button in actions["elements"]:
        assert json.loads(button["value"]) == {"number": "REQ-000042", "kind": "manager"}


def test_rejection_tells_the_reason() -> None:
    request = sample(
        "vpn_access", state=RequestState.REJECTED, rejection_reason="use the office network"
    )
    message = render_message("request_update", **context("request_update", request))
    assert "rejected" in message.text and "use the office network" in message.text


def test_update_names_the_failed_step() -> None:
    request = sample("new_laptop", state=RequestState.FAILED, error="hand_over_hardware: closed")
    message = render_message("request_update", **context("request_update", request))
    assert "hand_over_hardware: closed" in message.text


def test_vpn_expiry_date_is_shown() -> None:
    request = sample("vpn_access")
    message = render_message("work_order", **context("work_order", request))
    assert str(date(2027, 1, 31)) in everything(message)
