"""Silence tasks: declare, extend and lift one (each with its audit row in its transaction),
and the sweep that ends silences whose time has come and reminds their owners.

Lifting and expiring let go of what the silence held under the event processing lock, so no
correlation batch decides those alerts meanwhile: the ones still firing proceed as if they had
just fired (serviceops.correlate.release_held).
"""

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, Field

from blocks.event_policy import load_event_policy
from serviceops.correlate import release_held
from serviceops.domain.event import (
    AddSilence,
    ExtendSilence,
    LiftSilence,
    Silence,
    reminders,
)
from serviceops.domain.event import silences as steps
from serviceops.notify.outbox import Outbox
from serviceops.notify.render import render_message
from serviceops.store.event import EventRepository, SilenceRepository
from serviceops.store.request import IdentityRepository
from tasks.context import audit, current_flow_run_id, now, sessions


class SilenceSweep(BaseModel):
    expired: list[str] = Field(default_factory=list, description="Silences that ended now.")
    released: int = Field(0, description="Alerts they held, let go.")
    reminded: list[str] = Field(default_factory=list, description="Reminders queued (keys).")


@task(cache_policy=NO_CACHE)
def add_silence(command: AddSilence) -> Silence:
    at = now()
    steps.check_new(command, at)
    with sessions().begin() as session:
        silence = SilenceRepository(session).add(command, at)
        audit(session, steps.added(silence, command.actor))
    return silence


@task(cache_policy=NO_CACHE)
def extend_silence(command: ExtendSilence) -> Silence:
    """Under the processing lock, like lift and the sweep: on SQLite the row lock is no lock,
    and an extension read before a lift committed would make the lifted silence active."""
    at = now()
    with sessions().begin() as session:
        EventRepository(session).lock_processing(at)
        silences = SilenceRepository(session)
        change = steps.extend(
            silences.get(command.number, for_update=True), command.ends_at, command.actor, at
        )
        saved = silences.save(change.silence)
        audit(session, change.audit)
    return saved


@task(cache_policy=NO_CACHE)
def lift_silence(command: LiftSilence) -> Silence:
    """Ended by hand: what it held and is still firing proceeds now."""
    at = now()
    with sessions().begin() as session:
        EventRepository(session).lock_processing(at)
        silences = SilenceRepository(session)
        change = steps.lift(
            silences.get(command.number, for_update=True), command.actor, at, command.reason
        )
        saved = silences.save(change.silence)
        audit(session, change.audit)
        why = f"{saved.number} was lifted by {command.actor}"
        release_held(session, load_event_policy(), {saved.number: why}, at, current_flow_run_id())
    return saved


@task(cache_policy=NO_CACHE)
def sweep_silences() -> SilenceSweep:
    """Expire the silences whose end has come (letting go of what they held), then queue the
    reminders due to the owners of those still active (once each: the outbox key), by Slack
    DM, or in the event policy's channel for an owner without a Slack user id."""
    at, policy, result = now(), load_event_policy(), SilenceSweep()
    with sessions().begin() as session:
        EventRepository(session).lock_processing(at)
        silences = SilenceRepository(session)
        holders: dict[str, str] = {}
        for silence in silences.ended(at):
            change = steps.expire(silence, at)
            silences.save(change.silence)
            audit(session, change.audit)
            holders[silence.number] = f"{silence.number} ended"
        result.expired = sorted(holders)
        if holders:
            result.released = release_held(session, policy, holders, at, current_flow_run_id())
    with sessions().begin() as session:
        directory, outbox = IdentityRepository(session), Outbox(session)
        for silence in SilenceRepository(session).active(at):
            due = reminders(silence, at)
            if not due:
                continue
            identity = directory.get(silence.owner)
            # an owner Slack does not know is told through the events channel instead
            slack_id = None if identity is None else identity.slack_user_id
            for reminder in due:
                message = render_message("silence_reminder", reminder=reminder)
                if outbox.post(key=reminder.key, channel=slack_id or policy.channel,
                               message=message, record=silence.number, at=at):  # fmt: skip
                    result.reminded.append(reminder.key)
    return result
