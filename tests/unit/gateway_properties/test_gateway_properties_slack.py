"""Issue 9, POST /slack/interactions under generated input: whatever a correctly signed Slack
posts as an Approve or Reject press (buttons naming REQ-000001 or not, reply URLs that only look
like the allowed one), the gateway never answers 5xx, and REQ-000001 is still awaiting approval
afterwards: Prefect is down, so no resume gets through."""

from typing import Any
from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from serviceops.domain.request import ApprovalKind
from tests.unit.fuzz_gateway_support import AWAITING, AWAITING_RUN, FUZZ, REPLY_URL, SLACK_SECRET
from tests.unit.fuzz_strategy_support import (
    deep,
    document,
    dumps,
    fuzzed,
    hostile,
    json_values,
    names,
    slugs,
    texts,
)
from tests.unit.gateway_properties.support import EXAMPLES, Gateway
from tests.unit.gateway_support import slack_headers

# --------------------------------------------------------------------------- generation


_BUTTONS = st.fixed_dictionaries(
    {
        "number": st.one_of(
            st.just(AWAITING), st.from_regex(r"\AREQ-\d{6,8}\Z"), texts(max_size=20)
        ),
        "kind": st.one_of(
            st.sampled_from([kind.value for kind in ApprovalKind]), texts(max_size=20)
        ),
        "flow_run_id": st.one_of(st.just(AWAITING_RUN), st.uuids().map(str), texts(max_size=40)),
    }
)
# The one allowed reply URL (its post fails at once), and strings that only look like URLs:
# the gateway parses each to decide whether it may post there.
_RESPONSE_URLS = st.one_of(
    st.just(REPLY_URL),
    texts(max_size=30),
    texts(max_size=20).map(lambda rest: "https://" + rest),
    texts(max_size=20).map(lambda rest: REPLY_URL + rest),
)


@st.composite
def _slack_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A block_actions payload of an Approve/Reject press, with everything in it fuzzed."""
    action = document(
        {
            "action_id": fuzzed(st.sampled_from(["approve", "reject"])),
            "value": fuzzed(st.one_of(_BUTTONS.map(dumps), texts(max_size=60))),
        },
        {
            "type": st.just("button"),
            "block_id": texts(max_size=20),
            "action_ts": texts(max_size=20),
        },
    )
    user_ids = st.one_of(st.from_regex(r"\AU[A-Z0-9]{8,10}\Z"), slugs(12))
    user = document({}, {"username": names(250), "name": names(50), "id": user_ids})
    return draw(
        document(
            {  # what every block_actions payload carries
                "type": fuzzed(st.just("block_actions")),
                "actions": fuzzed(st.lists(action, min_size=1, max_size=3)),
                "user": fuzzed(user),
                "response_url": _RESPONSE_URLS,
            },
            {
                "container": json_values(),
                "message": st.one_of(hostile(), json_values()),
                "state": deep(json_values(5)),
                "trigger_id": texts(max_size=30),
            },
        )
    )


@st.composite
def _slack_bodies(draw: st.DrawFn) -> bytes:
    """The form Slack posts: `payload=<json>`, sometimes with other fields beside it."""
    payload = draw(fuzzed(_slack_payloads(), one_in=4, anything=json_values()))
    fields = [("payload", dumps(payload, ascii_only=draw(st.booleans())))]
    fields += draw(st.lists(st.tuples(st.text(max_size=10), st.text(max_size=10)), max_size=3))
    return urlencode(draw(st.permutations(fields))).encode()


# --------------------------------------------------------------------------- the properties


@settings(FUZZ, max_examples=EXAMPLES)
@given(body=_slack_bodies())
def test_slack_interactions_never_fail(gateway: Gateway, body: bytes) -> None:
    gateway.post("/slack/interactions", body, slack_headers(body, SLACK_SECRET))
    assert gateway.read(f"/api/v1/requests/{AWAITING}")["request"]["state"] == "awaiting_approval"
