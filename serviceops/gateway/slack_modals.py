"""Slack modals made from the same pydantic models as the Prefect UI's forms: a field per
model field (a select for a choice, a text input otherwise, optional when the model says so),
labelled with its title and hinted with its description; and the submitted values read back
into the model's field names. Building both from the model keeps Slack, the UI and the CLI
asking for the same things."""

import json
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

VALUE = "value"  # every input's action_id; its block_id is the field's name
LONG_TEXT = 200  # a field allowing more than this many characters is a multi-line input


def modal(
    model: type[BaseModel],
    *,
    callback_id: str,
    title: str,
    submit: str,
    metadata: dict[str, str],
    leave_out: set[str],
    choices: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The view for views.open. `choices` overrides a field's options (e.g. the CMDB's
    services for a free-text field)."""
    blocks = [
        _input(name, field, (choices or {}).get(name))
        for name, field in model.model_fields.items()
        if name not in leave_out
    ]
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": title[:24]},
        "submit": {"type": "plain_text", "text": submit[:24]},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """Field name -> what was typed or picked; fields left empty are absent."""
    values: dict[str, str] = {}
    state = view.get("state", {}).get("values", {})
    for name, inputs in state.items() if isinstance(state, dict) else []:
        entry = inputs.get(VALUE) if isinstance(inputs, dict) else None
        if not isinstance(entry, dict):
            continue
        option = entry.get("selected_option")
        value = option.get("value") if isinstance(option, dict) else entry.get("value")
        if isinstance(value, str) and value.strip():
            values[name] = value
    return values


def field_errors(errors: list[dict[str, Any]], fields: set[str]) -> dict[str, str]:
    """A pydantic error list as Slack's `response_action: errors` map (block id -> message);
    an error on no input of the modal is reported on the first one."""
    shown: dict[str, str] = {}
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        name = next((part for part in location if part in fields), None)
        shown.setdefault(name or sorted(fields)[0], str(error.get("msg", "invalid")))
    return shown


def _input(name: str, field: FieldInfo, choices: list[str] | None) -> dict[str, Any]:
    options = choices if choices is not None else _enum_values(field)
    if options:
        element: dict[str, Any] = {
            "type": "static_select",
            "action_id": VALUE,
            "options": [_option(value) for value in options[:100]],  # Slack's limit
        }
        if isinstance(field.default, Enum):
            element["initial_option"] = _option(field.default.value)
    else:
        element = {
            "type": "plain_text_input",
            "action_id": VALUE,
            "multiline": _max_length(field) > LONG_TEXT,
        }
    block: dict[str, Any] = {
        "type": "input",
        "block_id": name,
        "label": {"type": "plain_text", "text": (field.title or name)[:2000]},
        "element": element,
        "optional": not field.is_required(),
    }
    if field.description:
        block["hint"] = {"type": "plain_text", "text": field.description[:2000]}
    return block


def _option(value: str) -> dict[str, Any]:
    text = value.replace("_", " ")
    return {"text": {"type": "plain_text", "text": text[:75]}, "value": value}


def _enum_values(field: FieldInfo) -> list[str]:
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [str(member.value) for member in annotation]
    return []


def _max_length(field: FieldInfo) -> int:
    return next(
        (int(rule.max_length) for rule in field.metadata if getattr(rule, "max_length", None)),
        LONG_TEXT,
    )
