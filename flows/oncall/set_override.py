"""set-oncall-override: someone else on call for a while, from the Prefect UI's form or the CLI."""

from prefect import flow

from serviceops import deployment_names as names
from serviceops.domain.oncall import SetOverride, override_number
from tasks.board import publish_board
from tasks.oncall import record_override


@flow(name=names.SET_ONCALL_OVERRIDE)
def set_oncall_override(override: SetOverride) -> str:
    """Put someone on a layer of a group's rotation for a while ("Sam covers Alex from
    Friday 18:00 to Monday 09:00"); the latest override wins where two overlap. Returns the
    override's number.

    Args:
        override: The group, the layer, who covers, from when until when, and why.
    """
    stored = record_override(override)
    publish_board()
    assert stored.id is not None
    return override_number(stored.id)
