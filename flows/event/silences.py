"""Silences from the Prefect UI's forms or the CLI: declare one, extend it, lift it.

A silence holds new alerts of what it matches (no incident, no page, no message) until it
ends; process-events's sweep ends it on time and reminds its owner (serviceops.domain.event
.silences says why each rule is there)."""

from prefect import flow

from serviceops import deployment_names as names
from serviceops.domain.event import AddSilence, ExtendSilence, LiftSilence
from tasks.silences import add_silence, extend_silence, lift_silence


@flow(name=names.ADD_SILENCE)
def add_silence_flow(silence: AddSilence) -> str:
    """Quiet a CI, a service or a check for planned work, until a given end (at most 14 days
    ahead). Returns the silence's number.

    Args:
        silence: What to silence (CI, service, check: all given must match), until when, why,
            who owns it and who declares it.
    """
    return add_silence(silence).number


@flow(name=names.EXTEND_SILENCE)
def extend_silence_flow(command: ExtendSilence) -> str:
    """Give an active silence a later end; the owner hears of a third extension.

    Args:
        command: The silence, its new end and who extends it.
    """
    return extend_silence(command).number


@flow(name=names.LIFT_SILENCE)
def lift_silence_flow(command: LiftSilence) -> str:
    """End a silence now: what it holds that is still firing proceeds (incident, page).

    Args:
        command: The silence, why, and who lifts it.
    """
    return lift_silence(command).number


SILENCE_FLOWS = (add_silence_flow, extend_silence_flow, lift_silence_flow)
