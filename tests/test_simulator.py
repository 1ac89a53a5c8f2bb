"""The local Meta simulator, end to end with the real CloudClient and webhook parser.

Nothing is mocked: the client talks HTTP to a simulator on 127.0.0.1 and the
simulator posts signed webhooks to a receiver on 127.0.0.1. Waits are
bounded polls, never fixed sleeps.
"""

import base64
import hashlib
import json

import pytest
import requests

from campotech_whatsapp.cloud import builders, webhook
from campotech_whatsapp.cloud.client import CloudClient
from campotech_whatsapp.cloud.errors import CloudApiError, ErrorClass, TransportError
from campotech_whatsapp.cloud.events import parse_webhook, status_advances
from campotech_whatsapp.cloud.simulator import DEFAULTS, Simulator
from campotech_whatsapp.cloud.simulator import cli

CUSTOMER = "5491155556666"
TOKEN = DEFAULTS["access_token"]
PHONE_ID = DEFAULTS["phone_number_id"]
WABA = DEFAULTS["waba_id"]


def client_for(sim, **kwargs):
    return CloudClient(sim.config["access_token"], sim.config["phone_number_id"],
                       sim.config["waba_id"], base_url=sim.graph_url, **kwargs)


def graph(sim, method, path, token=TOKEN, **kwargs):
    headers = {"Authorization": "Bearer %s" % token} if token else {}
    return requests.request(method, "%s/v24.0/%s" % (sim.url, path), headers=headers,
                            timeout=5, **kwargs)


def text_to(to=CUSTOMER, body="Hola"):
    return builders.text(to, body)


def meta_error(excinfo):
    return excinfo.value.code, excinfo.value.error_class


# --- Sending and statuses ---------------------------------------------------------

def test_send_inside_window_returns_wamid_and_meta_shaped_answer(simulator):
    simulator.inbound({"from": CUSTOMER, "text": "Hola"})
    with client_for(simulator) as client:
        result = client.send(text_to())
    assert result.wamid.startswith("wamid.")
    assert result.wa_id == CUSTOMER and result.input == CUSTOMER
    assert result.raw["messaging_product"] == "whatsapp"
    sent = simulator.state()["messages"]
    assert [m["wamid"] for m in sent] == [result.wamid]
    assert sent[0]["body"]["text"]["body"] == "Hola"


def test_every_wamid_is_unique(simulator):
    simulator.inbound({"from": CUSTOMER})
    with client_for(simulator) as client:
        wamids = {client.send(text_to()).wamid for _ in range(20)}
    assert len(wamids) == 20


def test_statuses_arrive_signed_and_in_order(wired_sim, webhook_receiver):
    wired_sim.inbound({"from": CUSTOMER, "text": "Hola"})
    with client_for(wired_sim) as client:
        wamid = client.send(text_to()).wamid
    assert webhook_receiver.wait_for(lambda r: len(r.statuses(wamid)) >= 3)
    assert [s.status for s in webhook_receiver.statuses(wamid)] == ["sent", "delivered", "read"]
    for item in webhook_receiver.received:
        assert webhook.verify_signature(item.raw, item.signature, DEFAULTS["app_secret"])
        assert item.answer == 200
    status = webhook_receiver.statuses(wamid)[0]
    assert status.recipient_id == CUSTOMER
    assert status.pricing["category"] == "service" and status.pricing["billable"] is False


def test_out_of_order_and_duplicate_statuses_still_settle_on_read(sim_factory, webhook_receiver):
    sim = sim_factory(webhook_url=webhook_receiver.url, out_of_order=True, duplicate=True)
    sim.inbound({"from": CUSTOMER})
    with client_for(sim) as client:
        wamid = client.send(text_to()).wamid
    assert webhook_receiver.wait_for(lambda r: len(r.statuses(wamid)) >= 6)
    arrived = [s.status for s in webhook_receiver.statuses(wamid)]
    assert arrived == ["read", "read", "delivered", "delivered", "sent", "sent"]
    current = None
    for status in arrived:
        if status_advances(current, status):
            current = status
    assert current == "read"


def test_status_delays_can_skip_read(sim_factory):
    sim = sim_factory(status_delays={"sent": 0, "delivered": 0, "read": None})
    sim.inbound({"from": CUSTOMER})
    with client_for(sim) as client:
        client.send(text_to())
    assert sim.wait_idle(5)
    kinds = [d["kind"] for d in sim.deliveries() if d["kind"].startswith("status")]
    assert kinds == ["status:sent", "status:delivered"]


def test_webhooks_without_a_url_are_kept_in_the_delivery_log(simulator):
    wamid = simulator.inbound({"from": CUSTOMER, "text": "Hola"})
    assert simulator.wait_idle(5)
    log = requests.get(simulator.url + "/_sim/deliveries", timeout=5).json()["data"]
    assert log[0]["state"] == "no_webhook"
    assert log[0]["payload"]["entry"][0]["changes"][0]["value"]["messages"][0]["id"] == wamid


# --- The 24 h window ---------------------------------------------------------------

def test_free_form_without_customer_message_is_131047_window_closed(simulator):
    with client_for(simulator) as client, pytest.raises(CloudApiError) as excinfo:
        client.send(text_to())
    assert meta_error(excinfo) == (131047, ErrorClass.WINDOW_CLOSED)
    assert excinfo.value.http_status == 400
    assert "24 hours" in excinfo.value.details


def test_window_closes_24h_after_the_last_inbound_but_templates_still_go(sim_factory, frozen_clock):
    sim = sim_factory(clock=frozen_clock)
    sim.inbound({"from": CUSTOMER})
    with client_for(sim) as client:
        sim.advance(24 * 3600 - 1)
        client.send(text_to())
        sim.advance(1)
        with pytest.raises(CloudApiError) as excinfo:
            client.send(text_to())
        assert excinfo.value.code == 131047
        result = client.send(builders.template(CUSTOMER, "hello_world", "en_US"))
    assert result.wamid.startswith("wamid.")
    assert sim.state()["windows"]["541155556666"]["open"] is False


def test_clock_control_endpoint_moves_the_window(simulator):
    simulator.inbound({"from": CUSTOMER})
    answer = requests.post(simulator.url + "/_sim/clock", json={"advance": 25 * 3600}, timeout=5)
    assert answer.status_code == 200
    with client_for(simulator) as client, pytest.raises(CloudApiError) as excinfo:
        client.send(text_to())
    assert excinfo.value.code == 131047


def test_number_typed_without_the_argentine_9_shares_the_window_and_gets_its_wa_id(simulator):
    simulator.inbound({"from": CUSTOMER})
    with client_for(simulator) as client:
        result = client.send(text_to("541155556666"))
    assert result.input == "541155556666" and result.wa_id == CUSTOMER


def test_mark_read_needs_no_window_and_is_recorded(simulator):
    with client_for(simulator) as client:
        assert client.mark_read("wamid.HBgLNTQ5MTE1NTU1NjY2Ng==", typing=True) is True
    reads = simulator.state()["reads"]
    assert reads[0]["message_id"] == "wamid.HBgLNTQ5MTE1NTU1NjY2Ng==" and reads[0]["typing"]


# --- Limits ---------------------------------------------------------------------

def test_sends_beyond_mps_get_130429_until_the_clock_moves(sim_factory, frozen_clock):
    sim = sim_factory(mps=2, clock=frozen_clock)
    sim.inbound({"from": CUSTOMER})
    outcomes = []
    with client_for(sim) as client:
        for _ in range(5):
            try:
                client.send(text_to())
                outcomes.append("ok")
            except CloudApiError as exc:
                outcomes.append((exc.code, exc.error_class, exc.http_status))
        assert outcomes == ["ok", "ok"] + [(130429, ErrorClass.THROTTLED, 400)] * 3
        frozen_clock.advance(1.0)
        assert client.send(text_to()).wamid


def test_pair_rate_toggle_refuses_a_quick_second_message_to_one_customer(sim_factory, frozen_clock):
    sim = sim_factory(clock=frozen_clock, pair_rate_seconds=6)
    sim.inbound({"from": CUSTOMER})
    sim.inbound({"from": "5491177778888"})
    with client_for(sim) as client:
        client.send(text_to())
        client.send(text_to("5491177778888"))  # another customer is not held back
        with pytest.raises(CloudApiError) as excinfo:
            client.send(text_to("541155556666"))
        assert meta_error(excinfo) == (131056, ErrorClass.THROTTLED)
        frozen_clock.advance(6)
        assert client.send(text_to()).wamid


# --- Auth, routing, validation -------------------------------------------------

def test_wrong_or_missing_token_is_401_code_190(simulator):
    bad = CloudClient("not-the-token", PHONE_ID, WABA, base_url=simulator.graph_url)
    with pytest.raises(CloudApiError) as excinfo:
        bad.get_phone_number()
    assert meta_error(excinfo) == (190, ErrorClass.ADMIN) and excinfo.value.http_status == 401
    answer = graph(simulator, "GET", PHONE_ID, token=None)
    assert answer.status_code == 401 and answer.json()["error"]["type"] == "OAuthException"


def test_unknown_phone_number_id_is_400_code_100(simulator):
    other = CloudClient(TOKEN, "999999999999999", WABA, base_url=simulator.graph_url)
    with pytest.raises(CloudApiError) as excinfo:
        other.send(text_to())
    assert excinfo.value.code == 100 and excinfo.value.subcode == 33
    assert excinfo.value.http_status == 400


def test_any_graph_version_is_accepted(simulator):
    answer = requests.get("%s/v26.0/%s" % (simulator.url, PHONE_ID),
                          headers={"Authorization": "Bearer " + TOKEN}, timeout=5)
    assert answer.status_code == 200 and answer.json()["id"] == PHONE_ID


@pytest.mark.parametrize("body, code, fragment", [
    ({"to": CUSTOMER, "type": "text", "text": {"body": "x"}}, 100, "messaging_product"),
    ({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}, 100, "to"),
    ({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text"}, 100, "text"),
    ({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "fax", "fax": {"x": 1}}, 100, "type"),
    ({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text",
      "text": {"body": "x" * 4097}}, 131009, "4096"),
    ({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "image", "image": {"id": "404"}},
     131009, "media id"),
    ({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "interactive", "interactive": {
        "type": "button", "body": {"text": "¿Cuándo?"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": str(i), "title": "Opción %d" % i}} for i in range(4)]}}},
     131009, "buttons"),
])
def test_meta_refuses_malformed_sends_with_its_error_shape(simulator, body, code, fragment):
    simulator.inbound({"from": CUSTOMER})
    answer = graph(simulator, "POST", PHONE_ID + "/messages", json=body)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == code and error["type"] == "OAuthException" and error["fbtrace_id"]
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert fragment in error["error_data"]["details"] + error["message"]


def test_template_not_approved_or_unknown_is_132001(simulator):
    with client_for(simulator) as client:
        for name, lang in (("encuesta_satisfaccion", "es_AR"), ("no_existe", "es_AR"),
                           ("turno_confirmado", "en_US")):
            with pytest.raises(CloudApiError) as excinfo:
                client.send(builders.template(CUSTOMER, name, lang, [
                    {"type": "body", "parameters": [{"type": "text", "text": "Juana"}]}]))
            assert meta_error(excinfo) == (132001, ErrorClass.PERMANENT), name


def test_template_parameter_count_mismatch_is_132000(simulator):
    one_param = [{"type": "body", "parameters": [{"type": "text", "text": "Juana"}]}]
    with client_for(simulator) as client, pytest.raises(CloudApiError) as excinfo:
        client.send(builders.template(CUSTOMER, "turno_confirmado", "es_AR", one_param))
    assert excinfo.value.code == 132000 and "(1)" in excinfo.value.details


def test_template_with_matching_parameters_goes_outside_the_window(simulator):
    params = [{"type": "body", "parameters": [{"type": "text", "text": "Juana"},
                                              {"type": "text", "text": "martes 14"}]}]
    with client_for(simulator) as client:
        result = client.send(builders.template(CUSTOMER, "turno_confirmado", "es_AR", params))
    assert result.message_status == "accepted"
    assert simulator.state()["messages"][0]["category"] == "utility"


# --- Faults ---------------------------------------------------------------------

def test_faults_are_consumed_in_order_and_only_where_they_match(simulator):
    simulator.inbound({"from": CUSTOMER})
    simulator.fault({"code": 131026, "count": 2, "match": {"path": "messages"}})
    simulator.fault({"http_status": 503, "match": {"path": "messages"}})
    with client_for(simulator) as client:
        assert client.get_phone_number()["id"] == PHONE_ID  # no fault matches this path
        with pytest.raises(CloudApiError) as first:
            client.send(text_to())
        with pytest.raises(CloudApiError) as second:
            client.send(text_to())
        with pytest.raises(CloudApiError) as third:
            client.send(text_to())
        assert client.send(text_to()).wamid
    assert (first.value.code, second.value.code) == (131026, 131026)
    assert first.value.error_class == ErrorClass.PERMANENT
    assert third.value.http_status == 503 and third.value.retryable


def test_dropped_connection_is_a_retryable_transport_error(simulator):
    simulator.fault({"drop": True})
    with client_for(simulator) as client, pytest.raises(TransportError) as excinfo:
        client.get_phone_number()
    assert excinfo.value.retryable


def test_slow_answer_times_out_in_the_client(simulator):
    simulator.fault({"delay": 1.0})
    with client_for(simulator, timeout=(2, 0.2)) as client, pytest.raises(TransportError):
        client.get_phone_number()


def test_fault_with_retry_after_reaches_the_client(simulator):
    simulator.fault({"code": 130429, "retry_after": 7})
    with client_for(simulator) as client, pytest.raises(CloudApiError) as excinfo:
        client.get_phone_number()
    assert excinfo.value.retry_after == 7 and excinfo.value.error_class == ErrorClass.THROTTLED


def test_non_json_error_page_is_kept_as_an_http_error(simulator):
    simulator.fault({"http_status": 502, "raw": "<html><body>Bad Gateway</body></html>"})
    with client_for(simulator) as client, pytest.raises(CloudApiError) as excinfo:
        client.get_phone_number()
    assert excinfo.value.http_status == 502 and excinfo.value.code is None
    assert excinfo.value.retryable and "Bad Gateway" in excinfo.value.message


def test_async_fault_accepts_the_send_then_fails_it_by_webhook(wired_sim, webhook_receiver):
    wired_sim.inbound({"from": CUSTOMER})
    requests.post(wired_sim.url + "/_sim/faults", json={"async": True, "code": 131026}, timeout=5)
    with client_for(wired_sim) as client:
        assert client.get_phone_number()  # not a send: the late failure waits for one
        assert client.mark_read(wired_sim.state()["inbound"][0]["id"])
        wamid = client.send(text_to()).wamid
    statuses = webhook_receiver.wait_for(lambda r: r.statuses(wamid))
    assert [s.status for s in statuses] == ["failed"]
    assert statuses[0].error.code == 131026


# --- Media --------------------------------------------------------------------

def test_media_upload_info_download_and_delete(simulator):
    content = bytes(range(256)) * 8 + b"\r\n--boundary\r\n\n\r"
    with client_for(simulator) as client:
        media_id = client.upload_media(content, "image/png", "foto.png")
        data, info = client.fetch_media(media_id, hashlib.sha256(content).hexdigest())
        assert data == content
        assert info.file_size == len(content) and info.mime_type == "image/png"
        assert info.url.startswith(simulator.url + "/_sim/media/")
        assert client.delete_media(media_id) is True
        with pytest.raises(CloudApiError) as excinfo:
            client.get_media(media_id)
    assert excinfo.value.code == 100


def test_media_download_needs_the_bearer_token(simulator):
    with client_for(simulator) as client:
        info = client.get_media(client.upload_media(b"%PDF-1.4", "application/pdf", "a.pdf"))
    assert requests.get(info.url, timeout=5).status_code == 401


def test_media_url_expires_after_the_ttl(sim_factory, frozen_clock):
    sim = sim_factory(clock=frozen_clock, media_url_ttl=300)
    with client_for(sim) as client:
        info = client.get_media(client.upload_media(b"jpeg-bytes", "image/jpeg", "a.jpg"))
        frozen_clock.advance(299)
        assert client.download_media(info.url) == b"jpeg-bytes"
        frozen_clock.advance(1)
        with pytest.raises(CloudApiError) as excinfo:
            client.download_media(info.url)
        assert excinfo.value.http_status == 404
        assert client.fetch_media(info.id)[0] == b"jpeg-bytes"  # a fresh URL works


def test_upload_of_an_unsupported_type_is_131053(simulator):
    with client_for(simulator) as client, pytest.raises(CloudApiError) as excinfo:
        client.upload_media(b"MZ\x90\x00", "x-executable/exe", "virus.exe")
    assert excinfo.value.code == 131053


def test_inbound_image_can_be_downloaded_with_the_webhook_hash(wired_sim, webhook_receiver):
    photo = b"\x89PNG\r\n\x1a\n" + b"equipo-roto" * 50
    wired_sim.inbound({"from": CUSTOMER, "type": "image", "caption": "Así quedó",
                       "content": photo, "mime_type": "image/png"})
    [message] = webhook_receiver.wait_for(lambda r: r.messages())
    assert message.media.caption == "Así quedó"
    with client_for(wired_sim) as client:
        data, _info = client.fetch_media(message.media.id, message.media.sha256)
    assert data == photo


# --- Templates -------------------------------------------------------------------

def test_template_list_is_paged_with_absolute_next_urls(simulator):
    first = graph(simulator, "GET", WABA + "/message_templates", params={"limit": 2}).json()
    assert len(first["data"]) == 2
    assert first["paging"]["cursors"]["after"]
    assert first["paging"]["next"].startswith(simulator.url + "/v24.0/%s/message_templates?" % WABA)
    with client_for(simulator) as client:
        names = [t["name"] for t in client.list_templates(limit=2)]
    assert names == ["turno_confirmado", "factura_emitida", "tecnico_en_camino",
                     "encuesta_satisfaccion", "hello_world"]


def test_seeded_templates_are_spanish_field_service_ones(simulator):
    with client_for(simulator) as client:
        templates = {t["name"]: t for t in client.list_templates()}
    turno = templates["turno_confirmado"]
    assert turno["language"] == "es_AR" and turno["status"] == "APPROVED"
    body = next(c for c in turno["components"] if c["type"] == "BODY")
    assert body["text"] == "Hola {{1}}, confirmamos tu visita técnica para el {{2}}."
    assert templates["hello_world"]["language"] == "en_US"


def test_created_template_is_pending_until_approved_with_a_webhook(wired_sim, webhook_receiver):
    definition = {"name": "recordatorio_pago", "language": "es_AR", "category": "UTILITY",
                  "components": [{"type": "BODY", "text": "Hola {{1}}, te recordamos el pago."}]}
    with client_for(wired_sim) as client:
        created = client.create_template(definition)
        assert created["status"] == "PENDING" and created["category"] == "UTILITY"
        template = [{"type": "body", "parameters": [{"type": "text", "text": "Juana"}]}]
        with pytest.raises(CloudApiError) as excinfo:
            client.send(builders.template(CUSTOMER, "recordatorio_pago", "es_AR", template))
        assert excinfo.value.code == 132001
        answer = requests.post(wired_sim.url + "/_sim/templates/status",
                               json={"name": "recordatorio_pago", "event": "APPROVED"}, timeout=5)
        assert answer.status_code == 200
        [update] = webhook_receiver.wait_for(lambda r: r.template_updates())
        assert (update.event, update.status, update.name) == ("APPROVED", "approved", "recordatorio_pago")
        assert update.template_id == created["id"]
        assert client.send(builders.template(CUSTOMER, "recordatorio_pago", "es_AR", template)).wamid


def test_duplicate_template_name_and_language_is_refused(simulator):
    definition = {"name": "turno_confirmado", "language": "es_AR", "category": "UTILITY",
                  "components": [{"type": "BODY", "text": "Hola"}]}
    with client_for(simulator) as client, pytest.raises(CloudApiError) as excinfo:
        client.create_template(definition)
    assert excinfo.value.code == 100 and excinfo.value.subcode == 2388024


# --- Inbound messages of every type ---------------------------------------------------

INBOUND_CASES = [
    ({"type": "text", "text": "¿Pueden venir mañana?"}, "text", "¿Pueden venir mañana?"),
    ({"type": "image", "caption": "El aire acondicionado"}, "image", "El aire acondicionado"),
    ({"type": "document", "filename": "garantia.pdf"}, "document", "garantia.pdf"),
    ({"type": "audio", "voice": True}, "audio", ""),
    ({"type": "video"}, "video", ""),
    ({"type": "sticker"}, "sticker", ""),
    ({"type": "location", "location_name": "Casa", "address": "Av. Corrientes 1234"}, "location",
     "📍 Casa, Av. Corrientes 1234"),
    ({"type": "contacts"}, "contact", "👤 Carlos Gómez"),
    ({"type": "interactive", "id": "si", "title": "Sí, confirmo"}, "interactive", "Sí, confirmo"),
    ({"type": "interactive", "interactive_type": "list_reply", "id": "tarde", "title": "Por la tarde",
      "description": "14 a 18 h"}, "interactive", "Por la tarde"),
    ({"type": "button", "payload": "REPROGRAMAR", "text": "Reprogramar"}, "interactive", "Reprogramar"),
    ({"type": "reaction", "message_id": "wamid.HBgLNTQ5", "emoji": "👍"}, "reaction", "👍"),
    ({"type": "order"}, "unknown", None),
    ({"type": "system"}, "unknown", None),
    ({"type": "unsupported"}, "unknown", "Mensaje no compatible"),
]


@pytest.mark.parametrize("spec, record_type, body_text", INBOUND_CASES,
                         ids=[c[0].get("interactive_type") or c[0]["type"] for c in INBOUND_CASES])
def test_inbound_of_every_type_parses_into_the_right_record(wired_sim, webhook_receiver,
                                                            spec, record_type, body_text):
    wamid = wired_sim.inbound(dict(spec, **{"from": CUSTOMER, "name": "Juana"}))
    [message] = webhook_receiver.wait_for(lambda r: r.messages())
    assert message.id == wamid and message.type == spec["type"]
    assert message.record_type == record_type
    if body_text is not None:
        assert message.body_text == body_text
    assert message.wa_id == CUSTOMER
    if spec["type"] == "system":
        assert message.contact is None  # Meta sends no contacts with system messages
    else:
        assert message.contact.profile_name == "Juana"
    if record_type in ("image", "document", "audio", "video", "sticker"):
        assert message.media.id and len(base64.b64decode(message.media.sha256)) == 32
    if spec["type"] == "audio":
        assert message.media.voice is True


def test_reply_context_points_at_our_message(wired_sim, webhook_receiver):
    wired_sim.inbound({"from": CUSTOMER, "text": "Sí", "reply_to": "wamid.OURS"})
    [message] = webhook_receiver.wait_for(lambda r: r.messages())
    assert message.context.id == "wamid.OURS"
    assert message.context.from_ == DEFAULTS["display_phone_number"]


def test_username_only_customer_arrives_without_a_phone_number(wired_sim, webhook_receiver):
    wired_sim.inbound({"username_only": True, "user_id": "AR.1502576394655843",
                       "username": "@juana.p", "name": "Juana", "text": "Hola"})
    [message] = webhook_receiver.wait_for(lambda r: r.messages())
    assert message.wa_id is None and message.user_id == "AR.1502576394655843"
    assert message.contact.wa_id is None and message.contact.username == "@juana.p"
    body = {"messaging_product": "whatsapp", "recipient": "AR.1502576394655843", "type": "text",
            "text": {"body": "Hola Juana"}}
    answer = graph(wired_sim, "POST", PHONE_ID + "/messages", json=body)
    assert answer.status_code == 200
    assert answer.json()["contacts"][0]["user_id"] == "AR.1502576394655843"


def test_full_message_dict_is_delivered_as_given(wired_sim, webhook_receiver):
    raw_message = {"type": "text", "text": {"body": "tal cual"}, "referral": {"source_id": "ad1"}}
    wired_sim.inbound({"from": CUSTOMER, "message": raw_message})
    [message] = webhook_receiver.wait_for(lambda r: r.messages())
    assert message.body_text == "tal cual" and message.metadata["referral"] == {"source_id": "ad1"}


# --- Webhook delivery ------------------------------------------------------------------

def test_non_200_webhook_answers_are_retried_until_accepted(sim_factory, webhook_receiver):
    sim = sim_factory(webhook_url=webhook_receiver.url, retry_delays=(0.05, 0.05, 0.05))
    webhook_receiver.fail_next(2, status=500)
    wamid = sim.inbound({"from": CUSTOMER})
    assert webhook_receiver.wait_for(lambda r: r.messages())
    assert sim.wait_idle(5)
    [record] = [d for d in sim.deliveries() if d["kind"] == "message:text"]
    assert [a["status"] for a in record["attempts"]] == [500, 500, 200]
    assert record["state"] == "delivered"
    assert [m.id for m in webhook_receiver.messages()] == [wamid]
    # Every retry carries the same bytes, so the same signature.
    assert len({item.raw for item in webhook_receiver.received}) == 1


def test_webhook_delivery_gives_up_after_the_last_retry(sim_factory, webhook_receiver):
    sim = sim_factory(webhook_url=webhook_receiver.url, retry_delays=(0.02, 0.02))
    webhook_receiver.fail_next(10, status=503)
    sim.inbound({"from": CUSTOMER})
    assert sim.wait_idle(5)
    [record] = sim.deliveries()
    assert record["state"] == "failed" and len(record["attempts"]) == 3


def test_a_wrong_app_secret_is_caught_by_the_receiver(sim_factory, webhook_receiver):
    sim = sim_factory(webhook_url=webhook_receiver.url, app_secret="not-the-receivers-secret",
                      retry_delays=())
    sim.inbound({"from": CUSTOMER})
    assert sim.wait_idle(5)
    assert [item.answer for item in webhook_receiver.received] == [403]


def test_webhook_bytes_are_compact_ascii_json_signed_as_sent(wired_sim, webhook_receiver):
    wired_sim.inbound({"from": CUSTOMER, "text": "¿Llegó el técnico? 👍"})
    [item] = webhook_receiver.wait_for(lambda r: r.accepted())
    assert item.raw.isascii() and b": " not in item.raw
    assert parse_webhook(item.raw).changes[0].messages[0].body_text == "¿Llegó el técnico? 👍"
    assert item.signature == webhook.sign(item.raw, DEFAULTS["app_secret"])


def test_verify_webhook_does_metas_handshake(wired_sim, webhook_receiver):
    assert wired_sim.verify_webhook() == (True, "verified")
    webhook_receiver.verify_token = "another"
    ok, detail = wired_sim.verify_webhook()
    assert not ok and "403" in detail


# --- Control endpoints, state, safety --------------------------------------------------

def test_control_endpoints_drive_a_customer_and_show_state(simulator):
    url = simulator.url
    answer = requests.post(url + "/_sim/inbound",
                           json={"from": CUSTOMER, "name": "Juana", "type": "text", "text": "Hola"},
                           timeout=5).json()
    assert answer["wamid"].startswith("wamid.")
    with client_for(simulator) as client:
        client.send(builders.text(CUSTOMER, "¡Hola Juana!", reply_to=answer["wamid"]))
    state = requests.get(url + "/_sim/state", timeout=5).json()
    assert state["inbound"][0]["text"]["body"] == "Hola"
    assert state["messages"][0]["body"]["context"]["message_id"] == answer["wamid"]
    assert state["windows"]["541155556666"]["open"] is True
    assert requests.post(url + "/_sim/reset", timeout=5).json() == {"success": True}
    state = requests.get(url + "/_sim/state", timeout=5).json()
    assert state["messages"] == [] and state["windows"] == {}
    assert len(state["templates"]) == 5


def test_state_and_config_never_show_secrets(sim_factory):
    sim = sim_factory(access_token="tok-SECRET-1", app_secret="app-SECRET-2")
    sim.fault({"code": 131026})
    text = requests.get(sim.url + "/_sim/state", timeout=5).text
    assert "SECRET" not in text and "SECRET" not in repr(sim)


def test_unknown_control_endpoint_is_404_with_help(simulator):
    answer = requests.post(simulator.url + "/_sim/nope", json={}, timeout=5)
    assert answer.status_code == 404 and "/_sim/help" in answer.json()["error"]
    assert "POST /_sim/inbound" in requests.get(simulator.url + "/_sim/help", timeout=5).json()


def test_config_endpoint_changes_run_time_settings(simulator):
    answer = requests.post(simulator.url + "/_sim/config", json={"mps": 1, "duplicate": True},
                           timeout=5).json()
    assert answer["mps"] == 1 and answer["duplicate"] is True
    bad = requests.post(simulator.url + "/_sim/config", json={"access_token": "x"}, timeout=5)
    assert bad.status_code == 400


def test_phone_number_info_for_test_connection(simulator):
    with client_for(simulator) as client:
        info = client.get_phone_number()
    assert info["quality_rating"] == "GREEN" and info["code_verification_status"] == "VERIFIED"
    assert info["display_phone_number"] == DEFAULTS["display_phone_number"]
    assert info["throughput"] == {"level": "STANDARD"}


def test_simulator_refuses_to_bind_beyond_loopback():
    with pytest.raises(ValueError, match="loopback"):
        Simulator(host="0.0.0.0")
    Simulator(host="0.0.0.0", allow_remote=True)  # only when asked for


# --- CLI -----------------------------------------------------------------------------

def test_cli_inbound_fault_approve_and_clock_talk_to_a_running_simulator(simulator, capsys):
    sim = ["--sim", simulator.url]
    assert cli.main(["inbound"] + sim + ["--from", CUSTOMER, "--text", "Hola"]) == 0
    wamid = json.loads(capsys.readouterr().out)["wamid"]
    assert simulator.state()["inbound"][0]["id"] == wamid
    assert cli.main(["fault"] + sim + ["--code", "131026", "--path", "messages"]) == 0
    assert simulator.state()["faults"][0]["code"] == 131026
    assert cli.main(["approve"] + sim + ["--template", "encuesta_satisfaccion"]) == 0
    assert simulator.store.find_template("encuesta_satisfaccion")["status"] == "APPROVED"
    before = simulator.clock()
    assert cli.main(["clock"] + sim + ["--advance", "25h"]) == 0
    assert simulator.clock() - before >= 25 * 3600


def test_cli_inbound_with_a_file_sends_its_bytes(simulator, tmp_path, capsys):
    photo = tmp_path / "equipo.png"
    photo.write_bytes(b"\x89PNG fake photo")
    assert cli.main(["inbound", "--sim", simulator.url, "--type", "image", "--file", str(photo)]) == 0
    media_id = json.loads(capsys.readouterr().out)["media_id"]
    with client_for(simulator) as client:
        assert client.fetch_media(media_id)[0] == b"\x89PNG fake photo"


def test_cli_reports_an_unreachable_simulator(capsys):
    assert cli.main(["state", "--sim", "http://127.0.0.1:9"]) == 2
    assert "cannot reach" in capsys.readouterr().err


def test_seeded_templates_pass_our_own_definition_checks(simulator):
    from campotech_whatsapp.cloud import templates

    for definition in simulator.state()["templates"]:
        templates.validate_definition(definition)  # raises PayloadError on a problem
    turno = simulator.store.find_template("turno_confirmado", "es_AR")
    assert templates.build_components(turno, {"1": "Juana", "2": "martes 14"}) == [
        {"type": "body", "parameters": [{"type": "text", "text": "Juana"},
                                        {"type": "text", "text": "martes 14"}]}]


def test_a_bad_mps_setting_is_refused_and_the_old_one_kept(simulator):
    answer = requests.post(simulator.url + "/_sim/config", json={"mps": 0}, timeout=5)
    assert answer.status_code == 400 and "rate" in answer.json()["error"]
    assert simulator.state()["config"]["mps"] == DEFAULTS["mps"]


def test_status_to_a_username_only_customer_carries_the_user_id(wired_sim, webhook_receiver):
    wired_sim.inbound({"username_only": True, "user_id": "AR.99", "text": "Hola"})
    body = {"messaging_product": "whatsapp", "recipient": "AR.99", "type": "text",
            "text": {"body": "Hola"}}
    wamid = graph(wired_sim, "POST", PHONE_ID + "/messages", json=body).json()["messages"][0]["id"]
    [sent] = webhook_receiver.wait_for(lambda r: r.statuses(wamid)[:1])
    assert sent.recipient_user_id == "AR.99" and sent.recipient_id is None


# --- Resumable Upload API (template header samples) --------------------------------

PDF_SAMPLE = b"%PDF-1.4\n% sample\n%%EOF\n"


def _document_template(handle):
    header = {"type": "HEADER", "format": "DOCUMENT"}
    if handle:
        header["example"] = {"header_handle": [handle]}
    return {"name": "factura_muestra", "language": "es_AR", "category": "UTILITY",
            "components": [header, {"type": "BODY", "text": "Tu factura"}]}


def test_upload_sample_gives_a_handle_the_template_review_accepts(simulator):
    client = client_for(simulator)
    handle = client.upload_sample(DEFAULTS["app_id"], PDF_SAMPLE, "application/pdf", "f.pdf")
    assert handle.startswith("4::")
    assert simulator.store.handles[handle]["content"] == PDF_SAMPLE
    assert client.create_template(_document_template(handle))["status"] == "PENDING"


def test_media_header_without_a_handle_is_refused(simulator):
    with pytest.raises(CloudApiError, match="header_handle"):
        client_for(simulator).create_template(_document_template(None))


def test_upload_sample_checks_app_id_token_offset_and_length(simulator):
    client = client_for(simulator)
    with pytest.raises(CloudApiError, match="does not exist"):
        client.upload_sample("999", PDF_SAMPLE, "application/pdf", "f.pdf")
    with pytest.raises(CloudApiError) as excinfo:
        CloudClient("wrong-token", base_url=simulator.graph_url).upload_sample(
            DEFAULTS["app_id"], PDF_SAMPLE, "application/pdf", "f.pdf")
    assert excinfo.value.code == 190
    opened = graph(simulator, "POST", "%s/uploads" % DEFAULTS["app_id"], params={
        "file_name": "f.pdf", "file_length": len(PDF_SAMPLE), "file_type": "application/pdf"})
    session = opened.json()["id"]
    oauth = {"Authorization": "OAuth %s" % TOKEN}
    bearer_only = requests.post("%s/v24.0/%s" % (simulator.url, session), data=PDF_SAMPLE,
                                headers={"Authorization": "Bearer %s" % TOKEN, "file_offset": "0"},
                                timeout=5)
    assert bearer_only.status_code == 401
    no_offset = requests.post("%s/v24.0/%s" % (simulator.url, session), data=PDF_SAMPLE,
                              headers=oauth, timeout=5)
    assert no_offset.status_code == 400 and "file_offset" in no_offset.text
    short = requests.post("%s/v24.0/%s" % (simulator.url, session), data=PDF_SAMPLE[:5],
                          headers=dict(oauth, file_offset="0"), timeout=5)
    assert short.status_code == 400 and "file_length" in short.text
    done = requests.post("%s/v24.0/%s" % (simulator.url, session), data=PDF_SAMPLE,
                         headers=dict(oauth, file_offset="0"), timeout=5)
    assert done.json()["h"].startswith("4::")


def test_settings_print_the_app_id(simulator):
    assert simulator.client_settings()["app_id"] == DEFAULTS["app_id"]
