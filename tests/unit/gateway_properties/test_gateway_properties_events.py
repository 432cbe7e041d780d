"""Issue 9, POST /webhooks/events and /webhooks/alertmanager under generated input: whatever a
correctly signed or authorised sender posts, the gateway never answers 5xx, and the events it
accepted read back through the read API and the CLI, and so do the alerts process-events'
correlation makes of them.

Each endpoint gets a mix of structured payloads (the real shape, with hostile values in the
fields, so that many are accepted and the read side is exercised) and arbitrary JSON: any
unicode including lone surrogates written as \\u escapes, nesting to 100 000 levels, numbers
no double can hold, times whose UTC is outside years 1 to 9999.
"""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from serviceops.domain.event import EventStatus, Severity
from tests.unit.fuzz_gateway_support import ALERTMANAGER_TOKEN, FUZZ, WEBHOOK_SECRET, WEBHOOK_SOURCE
from tests.unit.fuzz_strategy_support import (
    datetimes,
    document,
    fuzzed,
    hostile,
    json_values,
    names,
    numbers,
    slugs,
    texts,
    wire,
)
from tests.unit.gateway_properties.support import _KEYS, EXAMPLES, Gateway
from tests.unit.gateway_support import webhook_headers

# --------------------------------------------------------------------------- generation


def _details_values() -> st.SearchStrategy[dict[str, Any]]:
    """Free-form `details`: kept as sent, so every hostile value reaches the database."""
    return st.dictionaries(texts(max_size=20), st.one_of(hostile(), json_values()), max_size=4)


@st.composite
def _events(draw: st.DrawFn) -> dict[str, Any]:
    """One EventIn as a monitoring system writes it: a service, a CI or both."""
    about = draw(st.sampled_from(["service", "ci", "both"]))
    resource = {name: fuzzed(names(100)) for name in ("service", "ci") if about in (name, "both")}
    return draw(
        document(
            {"check": fuzzed(names(200)), "summary": fuzzed(names(500)), **resource},
            {
                "source": fuzzed(slugs(50)),
                "severity": fuzzed(st.sampled_from([s.value for s in Severity])),
                "details": fuzzed(_details_values()),
                "dedup_key": fuzzed(names(200)),
                "status": fuzzed(st.sampled_from([s.value for s in EventStatus])),
                "occurred_at": datetimes(),
            },
        )
    )


EVENT_BODIES = fuzzed(
    st.one_of(
        _events(),
        st.lists(_events(), min_size=1, max_size=4).map(lambda events: {"events": events}),
    ),
    one_in=4,
    anything=json_values(),
)


def _labels(
    required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """Alertmanager's string maps: the named entries and any others."""
    return st.builds(
        lambda named, others: others | named,
        document(required, optional),
        st.dictionaries(names(30), fuzzed(names(200)), max_size=3),
    )


@st.composite
def _alerts(draw: st.DrawFn) -> dict[str, Any]:
    """One Alertmanager alert: alertname, something naming a service or a CI, its times."""
    resource = draw(st.sets(st.sampled_from(["service", "job", "ci", "instance"]), min_size=1))
    labels = {
        "alertname": fuzzed(names(200)),
        "severity": fuzzed(names(20) | st.sampled_from(["critical", "page", "warning", "info"])),
    }
    labels |= {name: fuzzed(names(150)) for name in resource}
    return draw(
        document(
            {
                "status": fuzzed(st.sampled_from(["firing", "resolved"])),
                "labels": fuzzed(_labels(labels, {})),
                "startsAt": datetimes(),
            },
            {
                "annotations": fuzzed(
                    _labels({}, {"summary": names(600), "description": names(600)})
                ),
                "endsAt": datetimes(),
                "generatorURL": fuzzed(names(300)),
                "fingerprint": fuzzed(names(150)),
            },
        )
    )


ALERTMANAGER_BODIES = fuzzed(
    document(
        {
            "version": fuzzed(st.just("4")),
            "status": fuzzed(st.sampled_from(["firing", "resolved"])),
            "alerts": fuzzed(st.lists(_alerts(), min_size=1, max_size=3)),
        },
        {
            "groupKey": fuzzed(names(200)),
            "truncatedAlerts": fuzzed(numbers()),
            "receiver": fuzzed(names(50)),
            "groupLabels": fuzzed(_labels({}, {})),
            "commonLabels": fuzzed(_labels({}, {})),
            "commonAnnotations": fuzzed(_labels({}, {})),
            "externalURL": fuzzed(names(200)),
        },
    ),
    one_in=4,
    anything=json_values(),
)


# --------------------------------------------------------------------------- the properties


def _read_events(gateway: Gateway, numbers: list[str]) -> None:
    """Each accepted event reads back, and so does every alert correlation put it in.

    Every record through the read API; through the CLI, every record in one `list --json`
    (the tables were emptied, so the list holds this example's records only) and one of them
    through `show`, as JSON and as text: a CLI call costs four API reads.
    """
    assert numbers and all(number.startswith("EVT-") for number in numbers), numbers
    for number in numbers:
        assert gateway.read(f"/api/v1/events/{number}")["event"]["number"] == number
    listed = gateway.cli_json("events", "list", "--limit", "500")["events"]
    assert sorted(view["number"] for view in listed) == sorted(numbers)
    assert gateway.cli_json("events", "show", numbers[0])["event"]["number"] == numbers[0]
    gateway.cli("events", "show", numbers[0])
    gateway.correlate()
    events = gateway.read("/api/v1/events?limit=500")["events"]
    alerts = sorted({view["alert_number"] for view in events} - {None})
    assert len(gateway.read("/api/v1/alerts?limit=500")["alerts"]) == len(alerts)
    for alert in alerts:
        assert gateway.read(f"/api/v1/alerts/{alert}")["alert"]["number"] == alert
    assert len(gateway.cli_json("alerts", "list", "--limit", "500")["alerts"]) == len(alerts)
    if alerts:
        assert gateway.cli_json("alerts", "show", alerts[0])["alert"]["number"] == alerts[0]
        gateway.cli("alerts", "show", alerts[0])


@settings(FUZZ, max_examples=EXAMPLES)
@given(body=wire(EVENT_BODIES), key=st.none() | _KEYS)
def test_event_intake_never_fails_and_what_it_accepts_reads_back(
    gateway: Gateway, body: bytes, key: str | None
) -> None:
    gateway.forget_records()
    headers = webhook_headers(body, WEBHOOK_SECRET, source=WEBHOOK_SOURCE, key=key)
    response = gateway.post("/webhooks/events", body, headers)
    if response.status_code == 202:
        _read_events(gateway, response.json()["events"])


@settings(FUZZ, max_examples=EXAMPLES)
@given(body=wire(ALERTMANAGER_BODIES))
def test_alertmanager_intake_never_fails_and_what_it_accepts_reads_back(
    gateway: Gateway, body: bytes
) -> None:
    gateway.forget_records()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {ALERTMANAGER_TOKEN}"}
    response = gateway.post("/webhooks/alertmanager", body, headers)
    if response.status_code == 202:
        _read_events(gateway, response.json()["events"])
