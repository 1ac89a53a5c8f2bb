"""Webhook parsing: every documented message type, statuses, template
updates, and the odd payloads Meta really sends."""

import copy
import dataclasses
import datetime
import json
import pathlib
import pickle

import pytest

from campotech_whatsapp.cloud import events
from campotech_whatsapp.cloud.errors import CloudError, ErrorClass

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "webhooks"
ALL_FIXTURES = sorted(path.stem for path in FIXTURES.glob("*.json"))
OUR_WAMID = "wamid.HBgNNTQ5MTEzMzMzNDQ0NBUCABEYEjQxMzg3QkY5RDI3NTk4NkIwRQA="
CUSTOMER = "5491133334444"
UTC = datetime.timezone.utc
TEMPLATE_FIELD = "message_template_status_update"


def load(name):
    return (FIXTURES / (name + ".json")).read_bytes()


def load_dict(name):
    return json.loads(load(name))


def only_message(body):
    messages = list(events.parse_webhook(body).messages())
    assert len(messages) == 1
    return messages[0]


def first_message_dict(data):
    return data["entry"][0]["changes"][0]["value"]["messages"][0]


def envelope(value, field="messages"):
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": field, "value": value}]}]}


# --- every message type -------------------------------------------------------

@pytest.mark.parametrize("fixture, meta_type, record_type, body_text", [
    ("text", "text", "text", "Hola, ¿tienen turno para el lunes?"),
    ("image", "image", "image", "Así quedó la pérdida de agua"),
    ("document", "document", "document", "Presupuesto firmado"),
    ("audio_voice", "audio", "audio", ""),
    ("video", "video", "video", "Ruido del motor"),
    ("sticker_animated", "sticker", "sticker", ""),
    ("location", "location", "location", "📍 Obelisco, Av. 9 de Julio s/n, CABA"),
    ("contacts", "contacts", "contact", "👤 Juan Pérez"),
    ("interactive_button_reply", "interactive", "interactive", "Sí, confirmo"),
    ("interactive_list_reply", "interactive", "interactive", "Lunes 9:00"),
    ("interactive_nfm_reply", "interactive", "interactive", "Formulario enviado"),
    ("button_quick_reply", "button", "interactive", "Reprogramar"),
    ("reaction", "reaction", "reaction", "👍"),
    ("reaction_removed", "reaction", "reaction", ""),
    ("order", "order", "unknown",
     "🛒 Pedido: 3 productos (ARS 93500.50) — Lo necesito para el jueves"),
    ("system_user_changed_number", "system", "unknown",
     "User María González changed from 5491133334444 to 5491166667777"),
    ("unsupported", "unsupported", "unknown", "Mensaje no compatible"),
])
def test_each_message_type_maps_to_our_record_type_and_chat_text(
        fixture, meta_type, record_type, body_text):
    message = only_message(load(fixture))
    assert message.type == meta_type
    assert message.record_type == record_type
    assert message.body_text == body_text
    assert "note" not in message.metadata


@pytest.mark.parametrize("fixture", ALL_FIXTURES)
def test_every_fixture_parses_into_json_serialisable_items(fixture):
    batch = events.parse_webhook(load(fixture))
    assert batch.changes
    for message in batch.messages():
        json.dumps(message.metadata)
        json.dumps(message.to_dict())
        assert message.record_type in events.C.RECORD_TYPES
    for status in batch.statuses():
        json.dumps(status.to_dict())
    for update in batch.template_updates():
        json.dumps(update.to_dict())


def _items(batch):
    for change in batch.changes:
        yield change
        yield from change.contacts
        yield from change.errors
        if change.template_update:
            yield change.template_update
        for item in change.messages + change.statuses:
            yield item
            yield from item.errors
            for part in (getattr(item, "contact", None), getattr(item, "media", None),
                         getattr(item, "context", None)):
                if part is not None:
                    yield part


@pytest.mark.parametrize("fixture", ALL_FIXTURES)
def test_parsed_items_are_whole_frozen_dataclasses(fixture):
    # The parser builds them without their __init__ (types._frozen), for speed:
    # each must still hold every field, compare equal to its copy and refuse writes.
    batch = events.parse_webhook(load(fixture))
    for item in [batch, *_items(batch)]:
        assert set(vars(item)) == {field.name for field in dataclasses.fields(item)}, item
        assert dataclasses.replace(item) == item == copy.deepcopy(item)
        assert pickle.loads(pickle.dumps(item)) == item
        with pytest.raises(dataclasses.FrozenInstanceError):
            item.problem = "x"


def test_text_message_carries_sender_time_and_account():
    message = only_message(load("text"))
    assert message.id.startswith("wamid.")
    assert message.wa_id == CUSTOMER
    assert message.timestamp == datetime.datetime(2025, 11, 24, 10, 26, 41, tzinfo=UTC)
    assert message.timestamp.tzinfo is not None
    assert message.contact.profile_name == "María González"
    assert message.user_id == "AR.13491208655302741918"
    assert message.phone_number_id == "301234567890123"
    assert message.media is None and message.context is None
    assert message.raw == first_message_dict(load_dict("text"))


def test_bytes_str_and_dict_bodies_parse_the_same():
    raw = load("multi_entry")
    from_bytes = [m.to_dict() for m in events.parse_webhook(raw).messages()]
    from_str = [m.to_dict() for m in events.parse_webhook(raw.decode()).messages()]
    from_dict = [m.to_dict() for m in events.parse_webhook(json.loads(raw)).messages()]
    assert from_bytes == from_str == from_dict
    assert len(from_bytes) == 3


# --- media ----------------------------------------------------------------------

def test_image_exposes_media_reference_for_download():
    message = only_message(load("image"))
    assert message.media == events.MediaRef(
        id="1503284820434127", mime_type="image/jpeg",
        sha256="3c1b9f5c0a6c4a0f4b8f2e7d9a1c5e3b7d2f4a6c8e0b1d3f5a7c9e2b4d6f8a0c",
        caption="Así quedó la pérdida de agua")
    assert message.metadata["media"]["id"] == "1503284820434127"


def test_media_metadata_is_a_copy_of_the_media_reference():
    message = only_message(load("image"))
    assert message.metadata["media"] == message.media.to_dict()
    message.metadata["media"]["id"] = "999"
    assert message.media.id == "1503284820434127"


def test_document_keeps_filename_and_shows_it_when_there_is_no_caption():
    data = load_dict("document")
    del first_message_dict(data)["document"]["caption"]
    message = only_message(data)
    assert message.media.filename == "presupuesto-0042.pdf"
    assert message.body_text == "presupuesto-0042.pdf"


def test_voice_note_is_flagged_as_voice():
    message = only_message(load("audio_voice"))
    assert message.media.voice is True
    assert message.media.mime_type == "audio/ogg; codecs=opus"
    assert message.media.animated is False


def test_animated_sticker_is_flagged_as_animated():
    message = only_message(load("sticker_animated"))
    assert message.media.animated is True
    assert message.media.voice is False


def test_media_message_without_media_id_is_kept_as_unknown_with_a_note():
    data = load_dict("video")
    del first_message_dict(data)["video"]["id"]
    message = only_message(data)
    assert message.record_type == "unknown"
    assert message.media is None
    assert "no media id" in message.metadata["note"]


# --- location, contacts ------------------------------------------------------------

def test_location_metadata_has_coordinates_name_address_and_url():
    message = only_message(load("location"))
    assert message.metadata["location"] == {
        "latitude": -34.6037389, "longitude": -58.3815704, "name": "Obelisco",
        "address": "Av. 9 de Julio s/n, CABA",
        "url": "https://maps.google.com/?q=-34.6037389,-58.3815704"}


def test_location_without_name_or_address_shows_the_coordinates():
    data = load_dict("location")
    location = first_message_dict(data)["location"]
    for key in ("name", "address", "url"):
        del location[key]
    message = only_message(data)
    assert message.body_text == "📍 -34.6037389, -58.3815704"
    assert message.metadata["location"]["name"] is None


def test_shared_contact_card_is_normalised_into_metadata():
    card = only_message(load("contacts")).metadata["contacts"][0]
    assert card["name"] == "Juan Pérez"
    assert card["phones"] == [{"phone": "+54 9 351 555-1234", "wa_id": "5493515551234", "type": "CELL"}]
    assert card["emails"][0]["email"] == "jperez@example.com"
    assert card["org"]["company"] == "Plomería Pérez"
    assert card["addresses"][0]["city"] == "Córdoba"
    assert card["birthday"] == "1985-03-14"


def test_contact_card_without_name_is_labelled_by_its_phone():
    data = load_dict("contacts")
    del first_message_dict(data)["contacts"][0]["name"]
    assert only_message(data).body_text == "👤 +54 9 351 555-1234"


# --- interactive and template buttons -----------------------------------------------

def test_button_reply_exposes_the_button_id_and_the_replied_message():
    message = only_message(load("interactive_button_reply"))
    assert message.metadata["interactive"]["type"] == "button_reply"
    assert message.metadata["interactive"]["id"] == "confirm_visit_yes"
    assert message.context.id == OUR_WAMID


def test_list_reply_exposes_row_id_and_description():
    interactive = only_message(load("interactive_list_reply")).metadata["interactive"]
    assert interactive == {"type": "list_reply", "id": "slot_2025_11_24_0900",
                           "title": "Lunes 9:00", "description": "Técnico disponible: Carlos"}


def test_flow_reply_response_json_is_parsed_into_a_dict():
    interactive = only_message(load("interactive_nfm_reply")).metadata["interactive"]
    assert interactive["name"] == "flow"
    assert interactive["response"] == {"flow_token": "turno-7781", "address": "Av. Colón 1234",
                                       "problem": "pérdida", "urgent": True}
    assert json.loads(interactive["response_json"]) == interactive["response"]


def test_flow_reply_with_broken_response_json_keeps_the_string_only():
    data = load_dict("interactive_nfm_reply")
    first_message_dict(data)["interactive"]["nfm_reply"]["response_json"] = "{not json"
    interactive = only_message(data).metadata["interactive"]
    assert interactive["response"] is None
    assert interactive["response_json"] == "{not json"


def test_address_nfm_reply_shows_its_own_body():
    data = load_dict("interactive_nfm_reply")
    first_message_dict(data)["interactive"]["nfm_reply"].update(
        name="address_message", body="Av. Colón 1234, Córdoba")
    assert only_message(data).body_text == "Av. Colón 1234, Córdoba"


def test_interactive_kind_newer_than_us_keeps_its_data():
    data = load_dict("interactive_button_reply")
    first_message_dict(data)["interactive"] = {
        "type": "call_permission_reply", "call_permission_reply": {"response": "accept"}}
    message = only_message(data)
    assert message.record_type == "interactive"
    assert message.metadata["interactive"] == {
        "type": "call_permission_reply", "data": {"response": "accept"}}


def test_template_quick_reply_button_exposes_payload_and_template_message():
    message = only_message(load("button_quick_reply"))
    assert message.metadata["button"] == {"payload": "RESCHEDULE_7781", "text": "Reprogramar"}
    assert message.context.id == OUR_WAMID
    assert message.context.from_ == "5491152630000"


# --- reactions --------------------------------------------------------------------

def test_reaction_points_at_the_reacted_message():
    message = only_message(load("reaction"))
    assert message.reaction_to == OUR_WAMID
    assert message.metadata["reaction"] == {"message_id": OUR_WAMID, "emoji": "👍", "removed": False}
    assert message.reaction_removed is False


@pytest.mark.parametrize("emoji", [None, ""])
def test_reaction_without_emoji_is_a_removal(emoji):
    data = load_dict("reaction_removed")
    if emoji is not None:
        first_message_dict(data)["reaction"]["emoji"] = emoji
    message = only_message(data)
    assert message.reaction_removed is True
    assert message.reaction_to == OUR_WAMID
    assert message.metadata["reaction"]["emoji"] is None
    assert message.body_text == ""


def test_reaction_without_target_message_is_kept_as_unknown():
    data = load_dict("reaction")
    del first_message_dict(data)["reaction"]["message_id"]
    message = only_message(data)
    assert message.record_type == "unknown"
    assert message.reaction_to is None
    assert "message_id" in message.metadata["note"]


# --- order, system, unsupported ------------------------------------------------------

def test_order_keeps_catalog_and_items():
    order = only_message(load("order")).metadata["order"]
    assert order["catalog_id"] == "1234567890123456"
    assert order["text"] == "Lo necesito para el jueves"
    assert [item["product_retailer_id"] for item in order["product_items"]] == [
        "canilla-mono-01", "flexible-40cm"]


def test_order_with_mixed_currencies_shows_no_total():
    data = load_dict("order")
    order = first_message_dict(data)["order"]
    order["product_items"][1]["currency"] = "USD"
    del order["text"]
    assert only_message(data).body_text == "🛒 Pedido: 3 productos"


def test_user_changed_number_reports_the_new_wa_id_without_a_contact():
    message = only_message(load("system_user_changed_number"))
    assert message.wa_id == CUSTOMER
    assert message.contact is None
    assert message.metadata["system"]["type"] == "user_changed_number"
    assert message.metadata["system"]["new_wa_id"] == "5491166667777"


def test_user_changed_number_without_body_gets_a_spanish_text():
    data = load_dict("system_user_changed_number")
    del first_message_dict(data)["system"]["body"]
    assert only_message(data).body_text == "El contacto cambió su número a +5491166667777"


def test_user_changed_user_id_reports_the_new_user_id():
    message = only_message(load("system_user_changed_user_id"))
    assert message.record_type == "unknown"
    assert message.metadata["system"]["type"] == "user_changed_user_id"
    assert message.metadata["system"]["new_user_id"] == "AR.20981208655302745555"


def test_unsupported_message_keeps_meta_errors_and_inner_type():
    message = only_message(load("unsupported"))
    assert message.errors == [events.ErrorInfo(
        code=131051, title="Message type unknown", message="Message type unknown",
        details="Message type is currently not supported.", href=None)]
    assert message.metadata["unsupported"] == {"type": "poll_creation"}
    assert message.metadata["errors"][0]["code"] == 131051


def test_unknown_message_type_without_errors_is_unknown_with_empty_text():
    data = load_dict("text")
    message_dict = first_message_dict(data)
    message_dict["type"] = "request_welcome"
    del message_dict["text"]
    message = only_message(data)
    assert (message.type, message.record_type, message.body_text) == ("request_welcome", "unknown", "")
    assert "note" not in message.metadata


# --- context, referral, identity ---------------------------------------------------------

def test_reply_context_names_the_quoted_message():
    message = only_message(load("text_reply_context"))
    assert message.context == events.MessageContext(from_="5491152630000", id=OUR_WAMID)
    assert message.metadata["context"]["id"] == OUR_WAMID


def test_forwarded_flags_are_read_from_context():
    message = only_message(load("text_forwarded"))
    assert message.context.forwarded is True
    assert message.context.frequently_forwarded is True
    assert message.context.id is None
    assert message.metadata["context"]["forwarded"] is True


def test_product_inquiry_keeps_the_referred_product():
    message = only_message(load("text_product_inquiry"))
    assert message.context.referred_product == {
        "catalog_id": "1234567890123456", "product_retailer_id": "bomba-presurizadora-9"}


def test_click_to_whatsapp_referral_is_kept_in_metadata():
    referral = only_message(load("text_referral")).metadata["referral"]
    assert referral["source_type"] == "ad"
    assert referral["ctwa_clid"].startswith("ARAkLkA8")
    assert referral["welcome_message"]["text"] == "¡Hola! ¿En qué te podemos ayudar?"


def test_username_only_user_has_user_id_and_no_wa_id():
    message = only_message(load("username_only"))
    assert message.wa_id is None
    assert message.user_id == "AR.13491208655302741918"
    assert message.contact == events.Contact(
        wa_id=None, user_id="AR.13491208655302741918", profile_name="Lucía",
        username="@lucia.rivas")


def test_contact_is_the_one_whose_wa_id_matches_the_sender():
    data = load_dict("text")
    value = data["entry"][0]["changes"][0]["value"]
    value["contacts"].insert(0, {"profile": {"name": "Otro"}, "wa_id": "5491100000000"})
    assert only_message(data).contact.profile_name == "María González"


# --- batches --------------------------------------------------------------------------

def test_multi_entry_payload_yields_everything_in_payload_order():
    batch = events.parse_webhook(load("multi_entry"))
    assert [(c.entry_id, c.field) for c in batch.changes] == [
        ("209876543210987", "messages"), ("209876543210987", "messages"),
        ("209876543210999", "messages"), ("209876543210999", "message_template_status_update")]
    assert [m.body_text for m in batch.messages()] == ["primero", "", "desde Córdoba"]
    assert [m.record_type for m in batch.messages()] == ["text", "image", "text"]
    assert [s.id for s in batch.statuses()] == ["wamid.OUT1", "wamid.OUT2", "wamid.OUT3"]
    assert [s.status for s in batch.statuses()] == ["delivered", "read", "sent"]
    assert [u.name for u in batch.template_updates()] == ["turno_confirmacion"]


def test_multi_entry_items_know_their_phone_number_and_sender():
    batch = events.parse_webhook(load("multi_entry"))
    messages = list(batch.messages())
    assert [m.phone_number_id for m in messages] == [
        "301234567890123", "301234567890123", "301234567890999"]
    assert messages[2].contact.profile_name == "Carlos Díaz"
    assert list(batch.statuses())[2].phone_number_id == "301234567890999"
    assert batch.changes[2].display_phone_number == "5493515550000"


def test_malformed_message_inside_a_batch_keeps_the_others():
    messages = list(events.parse_webhook(load("malformed_in_batch")).messages())
    assert [m.record_type for m in messages] == ["text", "unknown", "unknown", "unknown", "text"]
    assert messages[0].body_text == "antes" and messages[4].body_text == "después"
    broken_location, garbage, no_image = messages[1:4]
    assert "latitude" in broken_location.metadata["note"]
    assert broken_location.id is not None and broken_location.type == "location"
    assert broken_location.raw["location"]["latitude"] == "norte"
    assert garbage.raw == {"value": "garbage"}
    assert "not a JSON object" in garbage.metadata["note"]
    assert "'image' is missing" in no_image.metadata["note"]


@pytest.mark.parametrize("body, changes, messages, statuses", [
    ({"object": "whatsapp_business_account"}, 0, 0, 0),
    ({"object": "whatsapp_business_account", "entry": "x"}, 0, 0, 0),
    ({"object": "whatsapp_business_account", "entry": [{"id": "1"}]}, 0, 0, 0),
    ({"object": "whatsapp_business_account", "entry": ["x", {"changes": ["y"]}]}, 0, 0, 0),
    ({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages"}]}]}, 1, 0, 0),
    (envelope({"messages": "x", "statuses": {"a": 1}, "contacts": "y"}), 1, 0, 0),
    (envelope({"messages": [{}]}), 1, 1, 0),
    (envelope({"messages": [{"type": "text"}]}), 1, 1, 0),
    (envelope({"messages": [{"type": "text", "text": None}]}), 1, 1, 0),
    (envelope({"statuses": [{}, "x", {"status": "read"}]}), 1, 0, 2),
    (envelope({"event": None}, field=TEMPLATE_FIELD), 1, 0, 0),
    (envelope(None, field=None), 1, 0, 0),
])
def test_partial_payloads_never_raise(body, changes, messages, statuses):
    batch = events.parse_webhook(body)
    assert len(batch.changes) == changes
    assert len(list(batch.messages())) == messages
    assert len(list(batch.statuses())) == statuses


def test_missing_or_garbage_timestamp_is_none():
    batch = events.parse_webhook(envelope({"messages": [
        {"id": "a", "type": "text", "text": {"body": "x"}},
        {"id": "b", "type": "text", "text": {"body": "x"}, "timestamp": "mañana"},
        {"id": "c", "type": "text", "text": {"body": "x"}, "timestamp": "9" * 30},
    ]}))
    assert [m.timestamp for m in batch.messages()] == [None, None, None]
    assert [m.record_type for m in batch.messages()] == ["text", "text", "text"]


# --- statuses ---------------------------------------------------------------------------

def test_sent_status_carries_conversation_pricing_and_callback_data():
    status = next(events.parse_webhook(load("status_sent")).statuses())
    assert status.status == "sent"
    assert status.recipient_id == CUSTOMER
    assert status.recipient_user_id == "AR.13491208655302741918"
    assert status.timestamp == datetime.datetime.fromtimestamp(1763980100, tz=UTC)
    assert status.conversation == {"id": "0b5d62f3d0f7b5e1c9a4e2f8d6b3a1c7",
                                   "origin_type": "utility", "expiration_timestamp": 1764066540}
    assert status.pricing == {"billable": True, "category": "utility",
                              "pricing_model": "PMP", "type": "regular"}
    assert status.biz_opaque_callback_data == "campotech:msg:4412"
    assert status.errors == [] and status.error is None


def test_status_without_conversation_or_pricing_has_none_for_both():
    status = list(events.parse_webhook(load("multi_entry")).statuses())[0]
    assert status.conversation is None and status.pricing is None
    assert status.recipient_user_id is None


def test_failed_status_exposes_the_error_details_and_class():
    status = next(events.parse_webhook(load("status_failed")).statuses())
    assert status.status == "failed"
    assert status.error.code == 131047
    assert status.error.title == "Re-engagement message"
    assert status.error.details.startswith("Message failed to send because more than 24 hours")
    assert status.error.href.startswith("https://developers.facebook.com/")
    assert status.error.error_class is ErrorClass.WINDOW_CLOSED
    assert status.to_dict()["errors"][0]["code"] == 131047
    # What a message stores as its error text: title, message, details, one a line.
    assert status.error.text.split("\n")[0] == "Re-engagement message"
    assert status.error.text.endswith(status.error.details)
    assert events.ErrorInfo.from_dict({"code": 1}).text == ""


def test_status_name_is_lower_cased():
    batch = events.parse_webhook(envelope({"statuses": [{"id": "w", "status": "DELIVERED"}]}))
    assert next(batch.statuses()).status == "delivered"


# --- templates and other fields --------------------------------------------------------

def test_template_approval_is_parsed():
    update = next(events.parse_webhook(load("template_status_approved")).template_updates())
    assert update.event == "APPROVED" and update.status == "approved"
    assert update.template_id == "1689556908129832"
    assert (update.name, update.language, update.category) == ("turno_confirmacion", "es_AR", "utility")
    assert update.reason is None
    assert update.waba_id == "209876543210987"


def test_template_rejection_keeps_reason_and_rejection_info():
    update = next(events.parse_webhook(load("template_status_rejected")).template_updates())
    assert update.status == "rejected"
    assert update.reason == "INVALID_FORMAT"
    assert update.rejection_info["recommendation"] == "Add text before the first variable."


def test_template_pause_keeps_other_info():
    update = next(events.parse_webhook(load("template_status_paused")).template_updates())
    assert update.status == "paused"
    assert update.other_info["title"] == "FIRST_PAUSE"


@pytest.mark.parametrize("event, status", [
    ("APPROVED", "approved"), ("approved", "approved"), ("REJECTED", "rejected"),
    ("PENDING", "pending"), ("IN_APPEAL", "pending"), ("PAUSED", "paused"),
    ("DISABLED", "disabled"), ("FLAGGED", "approved"), ("REINSTATED", "approved"),
    ("PENDING_DELETION", "disabled"), ("DELETED", "disabled"), ("ARCHIVED", "disabled"),
    ("LOCKED", None), ("LIMIT_EXCEEDED", None), ("SOMETHING_NEW", None), (None, None),
])
def test_template_events_map_to_our_statuses(event, status):
    value = {"event": event, "message_template_id": 7, "message_template_name": "x"}
    update = next(events.parse_webhook(envelope(value, TEMPLATE_FIELD)).template_updates())
    assert update.status == status
    assert update.event == (event.upper() if event else None)


def test_template_quality_update_is_kept_as_a_raw_change():
    change = events.parse_webhook(load("template_quality_update")).changes[0]
    assert change.field == "message_template_quality_update"
    assert change.known is False
    assert change.template_update is None
    assert change.value["new_quality_score"] == "YELLOW"


def test_unknown_field_is_kept_with_its_raw_value():
    batch = events.parse_webhook(load("unknown_field"))
    (change,) = batch.changes
    assert change.field == "phone_number_quality_update"
    assert change.raw == {"display_phone_number": "5491152630000", "event": "DOWNGRADE",
                          "current_limit": "TIER_1K"}
    assert change.entry_id == "209876543210987"
    assert list(batch.messages()) == [] and list(batch.template_updates()) == []


# --- rejected bodies -------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b"", b"{not json", b"\xff\xfe{}", "[]", b'"text"', b"null", b"{}",
    b'{"object": "page", "entry": []}', None, 42, ["object"],
])
def test_bodies_that_are_not_whatsapp_webhooks_raise_payload_error(body):
    with pytest.raises(events.WebhookPayloadError) as info:
        events.parse_webhook(body)
    assert isinstance(info.value, CloudError) and isinstance(info.value, ValueError)
    assert str(info.value)


def test_payload_error_does_not_echo_the_body():
    body = b'{"object": "instagram", "entry": [{"id": "5491133334444"}]}'
    with pytest.raises(events.WebhookPayloadError) as info:
        events.parse_webhook(body)
    assert "5491133334444" not in str(info.value)
    assert "instagram" in str(info.value)


def test_parsing_does_not_modify_a_dict_body():
    data = load_dict("malformed_in_batch")
    before = copy.deepcopy(data)
    events.parse_webhook(data)
    assert data == before


# --- phone_number_ids ------------------------------------------------------------------

def test_phone_number_ids_lists_each_number_once_in_order():
    assert events.phone_number_ids(load("multi_entry")) == ["301234567890123", "301234567890999"]
    assert events.phone_number_ids(load("text").decode()) == ["301234567890123"]


@pytest.mark.parametrize("body", [
    b"nope", b"", None, 42, b"[1]", b'{"object": "page"}', {"object": "page"},
    b'{"object": "whatsapp_business_account", "entry": "x"}',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": 3}]}]}',
    b"[" * 100000,
])
def test_phone_number_ids_returns_empty_list_on_garbage(body):
    assert events.phone_number_ids(body) == []


def test_phone_number_ids_of_template_update_is_empty():
    assert events.phone_number_ids(load("template_status_approved")) == []


# --- status_advances -------------------------------------------------------------------

@pytest.mark.parametrize("current, new, expected", [
    (None, "sent", True),
    ("", "sent", True),
    ("pending", "sent", True),
    ("sent", "delivered", True),
    ("sent", "read", True),  # read may arrive without delivered
    ("delivered", "read", True),
    ("read", "played", True),
    ("SENT", "Delivered", True),
    ("read", "delivered", False),  # late delivered must not downgrade read
    ("played", "read", False),
    ("delivered", "sent", False),
    ("read", "read", False),
    ("sent", "sent", False),
    ("pending", "failed", True),
    ("sent", "failed", True),
    ("delivered", "failed", True),
    ("read", "failed", False),
    ("played", "failed", False),
    ("failed", "delivered", False),
    ("failed", "read", False),
    ("failed", "failed", False),
    ("sent", "deleted", False),
    ("sent", None, False),
    ("sent", "", False),
    ("bogus", "read", False),
])
def test_status_advances(current, new, expected):
    assert events.status_advances(current, new) is expected


def test_routing_ids_name_numbers_wabas_and_event_kinds():
    # WABA ids are Graph ids: digits, as Meta sends them.
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "2001", "changes": [
                {"field": "messages", "value": {
                    "metadata": {"phone_number_id": "111"},
                    "messages": [{"id": "wamid.1", "type": "text", "text": {"body": "Hola"}}]}},
                {"field": "messages", "value": {
                    "metadata": {"phone_number_id": "222"},
                    "statuses": [{"id": "wamid.2", "status": "read"}]}},
            ]},
            {"id": "2002", "changes": [
                {"field": "message_template_status_update", "value": {"event": "APPROVED"}}]},
        ],
    }
    routing = events.routing_ids(json.dumps(body).encode())
    assert routing.phone_number_ids == ["111", "222"]
    assert routing.waba_ids == ["2001", "2002"]
    assert routing.event_types == ["messages", "statuses", "message_template_status_update"]


def test_routing_ids_on_garbage_is_empty():
    routing = events.routing_ids(b"\xff not json")
    assert (routing.phone_number_ids, routing.waba_ids, routing.event_types) == ([], [], [])


@pytest.mark.parametrize("status, state", [
    ("played", "read"), ("read", "read"), ("delivered", "delivered"), ("failed", "failed")])
def test_message_state_reads_a_played_voice_note_as_read(status, state):
    assert events.message_state(status) == state


def test_new_wa_id_names_the_number_a_customer_moved_to():
    batch = events.parse_webhook(load("system_user_changed_number"))
    message = next(batch.messages())
    assert message.new_wa_id and message.new_wa_id != message.wa_id
    text = next(events.parse_webhook(load("text")).messages())
    assert text.new_wa_id is None


def test_routing_names_an_account_by_number_or_else_by_waba():
    messages = events.Routing(["111"], ["WABA1"], ["messages"])
    assert messages.names("111", "WABA9")
    assert not messages.names("222", "WABA1"), "a number id decides when there is one"
    template = events.Routing([], ["WABA1"], ["message_template_status_update"])
    assert template.names("999", "WABA1")
    assert not template.names("999", "WABA2")
    assert not events.Routing([], [], []).names("999", None)


# --- bodies and values no one can store (issue #11) ---------------------------------

def two_message_body(bad, metadata=None, contacts=None):
    good = {"id": "wamid.GOOD", "from": "5491155556666", "type": "text", "text": {"body": "hola"}}
    return {"object": "whatsapp_business_account", "entry": [{"id": "2001", "changes": [
        {"field": "messages", "value": {"metadata": metadata or {"phone_number_id": "1001"},
                                        "contacts": contacts or [], "messages": [bad]}},
        {"field": "messages", "value": {"metadata": {"phone_number_id": "1001"},
                                        "messages": [good]}}]}]}


@pytest.mark.parametrize("body", [
    b'{"object": "whatsapp_business_account", "entry": [{"id": 1' + b"0" * 5000 + b"}]}",
    b'{"object": "whatsapp_business_account", "entry": [], "x": NaN}',
    b'{"object": "whatsapp_business_account", "entry": [], "x": -Infinity}',
    b'{"object": ' + b"[" * 50_000,
    '{"object": "whatsapp_business_account"}'.encode("utf-16"),
])
def test_unreadable_bodies_are_payload_errors_and_routing_says_why(body):
    with pytest.raises(events.WebhookPayloadError):
        events.parse_webhook(body)
    routing = events.routing_ids(body)
    assert routing.problem
    assert (routing.phone_number_ids, routing.waba_ids, routing.event_types) == ([], [], [])
    assert routing.event_type == "unknown"


def test_an_object_that_is_not_a_string_is_named_by_its_type():
    with pytest.raises(events.WebhookPayloadError, match="a JSON array"):
        events.parse_webhook({"object": [[[]]] * 1000})


@pytest.mark.parametrize("value", [
    "1001\x00", "\ud800", "١٠٠١", "1" * 21, "-1", 1.5, True, {"a": 1}, ["1001"], "1001 "])
def test_routing_lists_only_plausible_graph_ids(value):
    body = json.dumps({"object": "whatsapp_business_account", "entry": [
        {"id": value, "changes": [{"field": "messages", "value": {
            "metadata": {"phone_number_id": value}, "messages": [{"id": "x"}]}}]}]})
    routing = events.routing_ids(body.encode())
    assert (routing.phone_number_ids, routing.waba_ids) == ([], [])
    assert routing.problem is None and routing.event_types == ["messages"]


def test_routing_reads_integer_ids_and_bounds_what_it_lists():
    entries = [{"id": 2000 + n, "changes": [{"field": "f_%d" % n, "value": {
        "metadata": {"phone_number_id": str(1000 + n)}}}]} for n in range(300)]
    entries.append({"id": "2", "changes": [{"field": "x" * 10_000, "value": {}}]})
    routing = events.routing_ids(json.dumps({"object": "whatsapp_business_account",
                                             "entry": entries}))
    assert routing.waba_ids[:2] == ["2000", "2001"]
    assert len(routing.waba_ids) == len(routing.phone_number_ids) == events.C.ROUTING_IDS_MAX
    assert len(routing.event_types) == events.C.ROUTING_EVENT_TYPES_MAX
    assert len(routing.event_type) < 1000


@pytest.mark.parametrize("key, value, reason", [
    ("id", "wamid." + "A" * 300, "more than the 256"),
    ("id", "wamid.\x00", "printable ASCII"),
    ("id", 12.5, "JSON number"),
    ("from", "+5491155556666", "digits only"),
    ("from", "5" * 16, "more than the 15"),
    ("from", "\ud800", "digits only"),
    ("from_user_id", "AR." + "1" * 200, "more than the 135"),
])
def test_an_unstorable_id_fails_its_own_message_only(key, value, reason):
    bad = {"id": "wamid.BAD", "from": "5491155556666", "type": "text", "text": {"body": "x"}}
    bad[key] = value
    batch = events.parse_webhook(two_message_body(bad))
    first, second = [m for c in batch.changes for m in c.messages]
    assert reason in first.problem and key.split("_")[0] in first.problem
    assert second.id == "wamid.GOOD" and second.problem is None and second.body_text == "hola"
    json.dumps(first.to_dict())


def test_a_sender_contact_with_unstorable_ids_fails_the_message():
    bad = {"id": "wamid.BAD", "from": "5491155556666", "type": "text", "text": {"body": "x"}}
    contacts = [{"wa_id": "5491155556666\x00", "profile": {"name": "Ana"}}]
    message = list(events.parse_webhook(two_message_body(bad, contacts=contacts)).messages())[0]
    assert "contact wa_id" in message.problem
    assert message.contact.wa_id is None and message.contact.profile_name == "Ana"


def test_an_unstorable_phone_number_id_fails_its_change_only():
    bad = {"id": "wamid.BAD", "from": "5491155556666", "type": "text", "text": {"body": "x"}}
    batch = events.parse_webhook(two_message_body(bad, metadata={"phone_number_id": "1" * 5000}))
    first, second = batch.changes
    assert "phone_number_id" in first.problem and first.messages == []
    assert first.phone_number_id is None
    assert [m.id for m in second.messages] == ["wamid.GOOD"] and second.problem is None


def test_text_values_come_out_storable_and_names_are_cut():
    bad = {"id": "wamid.BAD", "from": "5491155556666", "type": "text",
           "text": {"body": "ho\x00la \ud83d"}, "referral": {"headline": "\x00", "n": [1.5, "\udfff"]}}
    contacts = [{"wa_id": "5491155556666", "profile": {"name": "N" * 100_000}}]
    message = list(events.parse_webhook(two_message_body(bad, contacts=contacts)).messages())[0]
    assert message.problem is None
    assert message.body_text == "ho\ufffdla \ufffd"
    assert message.metadata["referral"] == {"headline": "\ufffd", "n": [1.5, "\ufffd"]}
    assert len(message.contact.profile_name) == events.C.PROFILE_NAME_MAX
    assert message.contact.profile_name.endswith("…")


def nested(depth):
    value = []
    for _level in range(depth):
        value = [value]
    return value


def test_unreadable_content_keeps_the_message_as_unknown():
    for part in ({"type": "image", "image": {"id": "../../me?fields=x"}},
                 {"type": "reaction", "reaction": {"message_id": "w" * 1000, "emoji": "👍"}},
                 {"type": "system", "system": {"type": "user_changed_number", "wa_id": "+54 9"}},
                 {"type": "text", "text": {"body": "x"}, "referral": {"a": nested(40)}}):
        bad = dict({"id": "wamid.BAD", "from": "5491155556666"}, **part)
        message = list(events.parse_webhook(two_message_body(bad)).messages())[0]
        assert message.problem is None and message.record_type == "unknown", part
        assert message.metadata["note"].startswith("could not read this")


def test_huge_quantities_and_codes_do_not_overflow():
    bad = {"id": "wamid.BAD", "from": "5491155556666", "type": "order", "order": {
        "product_items": [{"quantity": 10**400, "item_price": 1e308, "currency": "ARS"}]},
        "errors": [{"code": 10**30, "title": "x"}]}
    message = list(events.parse_webhook(two_message_body(bad)).messages())[0]
    assert message.body_text.startswith("🛒 Pedido: 1 producto")
    assert message.errors[0].code is None


def test_statuses_and_template_updates_with_unstorable_ids_say_why():
    value = {"metadata": {"phone_number_id": "1001"},
             "statuses": [{"id": "w" * 300, "status": "read"}, {"id": "wamid.OK", "status": "read"}]}
    statuses = list(events.parse_webhook(envelope(value)).statuses())
    assert "status id" in statuses[0].problem and statuses[1].problem is None
    update = next(events.parse_webhook(envelope(
        {"event": "APPROVED", "message_template_id": "12\x00", "message_template_name": "n" * 600},
        TEMPLATE_FIELD)).template_updates())
    assert "template id" in update.problem and "template name" in update.problem


# --- the engine's own texts come from the addon's translations ------------------------

def test_previews_are_english_sources_translated_by_the_addons_po_files():
    from campotech_whatsapp.cloud import translations

    english = only_message_with(load("unsupported"), lambda source: source)
    assert english.body_text == events.TEXT_UNSUPPORTED == "Unsupported message"
    assert translations.catalogue("es_AR")[events.TEXT_UNSUPPORTED] == "Mensaje no compatible"
    assert translations.translator("en_US")("Form sent") == "Form sent"
    assert translations.translator("xx_XX")("Form sent") == "Form sent"
    for source in (events.TEXT_UNSUPPORTED, events.TEXT_FLOW_SENT, events.TEXT_CONTACT,
                   events.TEXT_NUMBER_CHANGED, events.TEXT_USER_ID_CHANGED,
                   events.TEXT_ORDER_ONE, events.TEXT_ORDER_MANY):
        for lang in ("es_AR", "es"):
            assert translations.catalogue(lang).get(source), (lang, source)


def only_message_with(body, translate):
    (message,) = events.parse_webhook(body, translate=translate).messages()
    return message


def test_po_reader_joins_continued_lines_and_skips_plurals():
    from campotech_whatsapp.cloud.translations import parse_po

    text = ('msgid ""\nmsgstr "header"\n\n#. c\nmsgid "a"\n"b \\"q\\""\nmsgstr ""\n"AB"\n\n'
            'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "uno"\n\nmsgid "empty"\nmsgstr ""\n')
    assert parse_po(text) == {'ab "q"': "AB"}
