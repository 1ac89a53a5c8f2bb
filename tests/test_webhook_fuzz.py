"""Property-based tests: the webhook engine on arbitrary bytes and arbitrary JSON.

Whatever a body holds, routing never raises, parsing raises nothing but
WebhookPayloadError, and everything parsed can be stored: no NUL, no lone
surrogate, ids within Meta's bounds, metadata that strict JSON accepts.
"""

import json
import math
import re

from hypothesis import HealthCheck, example, given, settings, strategies as st

from campotech_whatsapp.cloud import constants as C, events, webhook

# Modest example counts keep the suite fast; no example database on disk.
FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
# Bodies that take long to draw (nested envelopes) get fewer.
FUZZ_NESTED = settings(FUZZ, max_examples=150)

DIGITS = re.compile("[0-9]{1,%d}" % C.GRAPH_ID_MAX_DIGITS)
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# The keys Meta uses, so generated bodies reach deep into the parser.
KEYS = ["object", "entry", "id", "changes", "field", "value", "metadata", "phone_number_id",
        "display_phone_number", "messages", "statuses", "contacts", "errors", "profile", "name",
        "wa_id", "user_id", "from", "from_user_id", "type", "timestamp", "text", "body",
        "image", "document", "audio", "video", "sticker", "location", "latitude", "longitude",
        "interactive", "button_reply", "list_reply", "nfm_reply", "response_json", "title",
        "button", "payload", "reaction", "message_id", "emoji", "order", "product_items",
        "quantity", "item_price", "currency", "system", "context", "referral", "status",
        "recipient_id", "conversation", "pricing", "code", "error_data", "details", "event",
        "message_template_id", "message_template_name", "message_template_language",
        "mime_type", "sha256", "caption", "filename", "phones", "phone", "contacts"]
ODD_STRINGS = ["", "\x00", "a\x00b", "\ud800", "x\udfffy", "wamid.\x00", "١٢٣", "0" * 30,
               "9" * 3000, "messages", "whatsapp_business_account", "text", "image", "1001",
               "statuses", "message_template_status_update", "AR.1349", "wamid.OK", "-1", "1e999"]

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(), st.integers(min_value=10**18, max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.sampled_from(ODD_STRINGS),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=6)),
    max_leaves=40,
)
# Smaller values where many are drawn into one body.
small_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=8,
)


def envelope_of(draw_value):
    """A WhatsApp envelope around arbitrary change values, so parsing goes past the object check."""
    return st.builds(
        lambda entries: {"object": "whatsapp_business_account", "entry": entries},
        st.lists(st.one_of(
            small_values,
            st.fixed_dictionaries({
                "id": st.one_of(st.sampled_from(ODD_STRINGS), st.integers(), scalars),
                "changes": st.lists(st.one_of(small_values, st.fixed_dictionaries({
                    "field": st.one_of(st.sampled_from(ODD_STRINGS), scalars),
                    "value": draw_value})), max_size=3)})), max_size=3))


message_like = st.dictionaries(st.sampled_from(KEYS), small_values, max_size=8)
change_values = st.one_of(
    small_values,
    st.fixed_dictionaries({
        "metadata": st.one_of(small_values, st.fixed_dictionaries({
            "phone_number_id": st.one_of(st.sampled_from(ODD_STRINGS), scalars)})),
        "contacts": st.lists(message_like, max_size=2),
        "messages": st.lists(message_like, max_size=3),
        "statuses": st.lists(message_like, max_size=3),
    }),
)
webhooks = envelope_of(change_values)


def encode(data):
    """JSON text of data; NaN and Infinity come out as the non-JSON words Python writes."""
    return json.dumps(data).encode()


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings_in(item)


def assert_storable(data):
    for text in strings_in(data):
        assert not UNSTORABLE.search(text), text[:80]
    # Strict JSON, as PostgreSQL's jsonb reads it: no NaN, no Infinity.
    json.dumps(data, allow_nan=False)


def assert_routing_is_sane(routing):
    assert isinstance(routing, events.Routing)
    for ids in (routing.phone_number_ids, routing.waba_ids):
        assert len(ids) <= C.ROUTING_IDS_MAX
        assert all(isinstance(i, str) and DIGITS.fullmatch(i) for i in ids), ids
    assert len(routing.event_types) <= C.ROUTING_EVENT_TYPES_MAX
    assert all(re.fullmatch("[a-z0-9_]{1,%d}" % C.FIELD_NAME_MAX, kind) for kind in routing.event_types)
    assert len(routing.event_type) < 1000
    assert routing.problem is None or (isinstance(routing.problem, str)
                                       and not UNSTORABLE.search(routing.problem))


def assert_parsed_batch_is_storable(batch):
    for change in batch.changes:
        assert change.phone_number_id is None or DIGITS.fullmatch(change.phone_number_id)
        assert change.entry_id is None or DIGITS.fullmatch(change.entry_id)
        assert change.field is None or len(change.field) <= C.FIELD_NAME_MAX
        assert_storable([change.problem, change.field, change.display_phone_number])
        if change.problem:
            assert not change.messages and not change.statuses and change.template_update is None
    for message in batch.messages():
        data = message.to_dict()
        assert_storable(data)
        assert message.record_type in C.RECORD_TYPES
        if message.problem is None:
            assert message.id is None or len(message.id) <= C.WAMID_MAX
            assert message.wa_id is None or re.fullmatch("[0-9]{1,15}", message.wa_id)
            assert message.user_id is None or len(message.user_id) <= C.USER_ID_MAX
            if message.contact:
                assert message.contact.profile_name is None or \
                    len(message.contact.profile_name) <= C.PROFILE_NAME_MAX
        if message.media:
            assert DIGITS.fullmatch(message.media.id)
        if message.reaction_to:
            assert len(message.reaction_to) <= C.WAMID_MAX
    for status in batch.statuses():
        assert_storable(status.to_dict())
        assert status.problem or status.id is None or len(status.id) <= C.WAMID_MAX
        for error in status.errors:
            assert error.code is None or abs(error.code) <= C.ERROR_CODE_MAX
    for update in batch.template_updates():
        assert_storable(update.to_dict())
        assert update.problem or update.name is None or len(update.name) <= C.TEMPLATE_NAME_MAX


def parse_or_payload_error(body):
    try:
        return events.parse_webhook(body)
    except events.WebhookPayloadError as error:
        assert str(error) and not UNSTORABLE.search(str(error))
        return None


# --- arbitrary bytes ------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=2000))
@example(b"\x00" * 10)
@example(b'{"object": "whatsapp_business_account", "entry": [{"id": 1' + b"0" * 5000 + b"}]}")
@example("\ufeff{}".encode())
@example(b"[" * 50_000)
@example('{"a":"x"}'.encode("utf-16"))
def test_routing_never_raises_on_arbitrary_bytes(body):
    routing = events.routing_ids(body)
    assert_routing_is_sane(routing)
    assert (routing.problem is None) == (parse_or_payload_error(body) is not None)


@FUZZ
@given(st.binary(max_size=2000))
def test_parsing_raises_only_payload_errors_on_arbitrary_bytes(body):
    batch = parse_or_payload_error(body)
    if batch is not None:
        assert_parsed_batch_is_storable(batch)


@FUZZ
@given(st.binary(max_size=2000))
@example(b"")
@example(b"\x00\xff\xfe")
def test_body_text_is_storable_and_exact_for_plain_utf8(body):
    text = webhook.body_text(body)
    assert not UNSTORABLE.search(text)
    pretty = webhook.body_pretty(body)
    assert not UNSTORABLE.search(pretty)
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError:
        return
    if not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", decoded):
        assert text == decoded


@FUZZ
@given(st.text(max_size=300))
def test_body_text_round_trips_clean_text(text):
    clean = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]", "", text)
    assert webhook.body_text(clean.encode("utf-8")) == clean


# --- arbitrary JSON -------------------------------------------------------------

@FUZZ_NESTED
@given(json_values)
def test_routing_and_parsing_on_arbitrary_json(data):
    body = encode(data)
    assert_routing_is_sane(events.routing_ids(body))
    batch = parse_or_payload_error(body)
    if batch is not None:
        assert_parsed_batch_is_storable(batch)


@FUZZ_NESTED
@given(webhooks)
def test_routing_and_parsing_on_arbitrary_webhook_envelopes(data):
    body = encode(data)
    routing = events.routing_ids(body)
    assert_routing_is_sane(routing)
    batch = parse_or_payload_error(body)
    if batch is not None:
        assert_parsed_batch_is_storable(batch)
        # Parsing a dict (as the engine is also called) sees the same as the bytes.
        if all(isinstance(x, float) and math.isfinite(x) or not isinstance(x, float)
               for x in _leaves(data)):
            again = events.parse_webhook(data)
            assert [m.to_dict() for m in again.messages()] == [m.to_dict() for m in batch.messages()]


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


@FUZZ_NESTED
@given(st.one_of(json_values, st.binary(max_size=50), st.integers(), st.floats()))
def test_parsing_any_python_value_raises_only_payload_errors(value):
    batch = parse_or_payload_error(value)
    if batch is not None:
        assert_parsed_batch_is_storable(batch)
    assert_routing_is_sane(events.routing_ids(value))
