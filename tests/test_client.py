"""CloudClient against Meta's HTTP contract, mocked at the requests boundary."""

import base64
import hashlib
import json
import logging
from datetime import datetime, timezone

import pytest
import requests
import responses
from responses import matchers

from campotech_whatsapp.cloud import constants as C
from campotech_whatsapp.cloud.client import (
    CloudClient, MediaInfo, MediaIntegrityError, SendResult, parse_retry_after)
from campotech_whatsapp.cloud.errors import CloudApiError, ErrorClass, TransportError

TOKEN = "EAAGtestSECRETtoken0123456789"
PNID = "106540352242922"
WABA = "102290129340398"
GRAPH = "https://graph.facebook.com/v24.0"
MEDIA_URL = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=77&ext=1&hash=abc"
AUTH = {"Authorization": "Bearer " + TOKEN}


@pytest.fixture
def client():
    return CloudClient(TOKEN, PNID, WABA)


@pytest.fixture
def mocked():
    with responses.RequestsMock() as rsps:
        yield rsps


def meta_error(code, message="boom", subcode=None, details=None, **extra):
    error = {"message": message, "type": "OAuthException", "code": code,
             "fbtrace_id": "AbCdEf123", **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


SEND_OK = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "+54 9 11 5555-1234", "wa_id": "5491155551234"}],
    "messages": [{"id": "wamid.HBgNNTQ5MTE1NTU1MTIzNBUCABEYEjE=", "message_status": "accepted"}],
}
TEXT = {"messaging_product": "whatsapp", "recipient_type": "individual",
        "to": "5491155551234", "type": "text", "text": {"body": "hola"}}


# --- construction -------------------------------------------------------------

def test_repr_of_client_does_not_show_the_token(client):
    assert TOKEN not in repr(client)
    assert PNID in repr(client)


@pytest.mark.parametrize("version", ["v18.0", "v23.0"])
def test_expired_api_version_is_rejected_at_construction(version):
    with pytest.raises(ValueError, match="expired"):
        CloudClient(TOKEN, PNID, api_version=version)


@pytest.mark.parametrize("version", ["24.0", "v24", "latest", "", None])
def test_malformed_api_version_is_rejected(version):
    with pytest.raises(ValueError, match="v24.0"):
        CloudClient(TOKEN, PNID, api_version=version)


def test_token_with_a_newline_is_rejected_without_echoing_it():
    with pytest.raises(ValueError) as info:
        CloudClient(TOKEN + "\nX-Evil: 1 " + TOKEN, PNID)
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize("token", ["", "   ", None])
def test_missing_token_is_rejected(token):
    with pytest.raises(ValueError, match="access token"):
        CloudClient(token, PNID)


def test_missing_timeout_is_refused_because_every_call_needs_one():
    with pytest.raises(ValueError, match="timeout"):
        CloudClient(TOKEN, PNID, timeout=None)


# --- send -----------------------------------------------------------------

def test_send_returns_wamid_and_wa_id_from_meta_answer(client, mocked):
    mocked.post(f"{GRAPH}/{PNID}/messages", json=SEND_OK)
    result = client.send(TEXT)
    assert isinstance(result, SendResult)
    assert result.wamid == "wamid.HBgNNTQ5MTE1NTU1MTIzNBUCABEYEjE="
    assert result.wa_id == "5491155551234"
    assert result.input == "+54 9 11 5555-1234"
    assert result.message_status == "accepted"
    assert result.raw == SEND_OK


def test_send_posts_payload_as_json_with_bearer_header_and_timeout(client, mocked):
    mocked.post(f"{GRAPH}/{PNID}/messages", json=SEND_OK)
    client.send(TEXT)
    request = mocked.calls[0].request
    assert request.method == "POST"
    assert request.url == f"https://graph.facebook.com/v24.0/{PNID}/messages"
    assert request.headers["Authorization"] == "Bearer " + TOKEN
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == TEXT
    assert request.req_kwargs["timeout"] == C.DEFAULT_TIMEOUT


def test_custom_base_url_and_api_version_build_the_url(mocked):
    sim = CloudClient(TOKEN, PNID, base_url="http://127.0.0.1:8765/graph/",
                      api_version="v25.0", timeout=3)
    mocked.post(f"http://127.0.0.1:8765/graph/v25.0/{PNID}/messages", json=SEND_OK)
    sim.send(TEXT)
    assert mocked.calls[0].request.url == f"http://127.0.0.1:8765/graph/v25.0/{PNID}/messages"
    assert mocked.calls[0].request.req_kwargs["timeout"] == 3


def test_given_session_is_used_and_not_polluted_with_the_token(mocked):
    session = requests.Session()
    session.headers["X-Campotech"] = "1"
    mocked.post(f"{GRAPH}/{PNID}/messages", json=SEND_OK)
    CloudClient(TOKEN, PNID, session=session).send(TEXT)
    assert mocked.calls[0].request.headers["X-Campotech"] == "1"
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer " + TOKEN
    assert "Authorization" not in session.headers


def test_send_without_phone_number_id_raises_value_error():
    with pytest.raises(ValueError, match="phone_number_id"):
        CloudClient(TOKEN, waba_id=WABA).send(TEXT)


def test_send_2xx_without_message_id_is_an_error_not_a_silent_success(client, mocked):
    mocked.post(f"{GRAPH}/{PNID}/messages", json={"messaging_product": "whatsapp"})
    with pytest.raises(TransportError, match="without a message id") as info:
        client.send(TEXT)
    # The message may have gone out: resending automatically could duplicate it.
    assert not info.value.retryable


def test_2xx_with_a_non_json_body_raises_a_clear_error(client, mocked):
    mocked.post(f"{GRAPH}/{PNID}/messages", body="<html>proxy login</html>", status=200)
    with pytest.raises(TransportError, match="not a JSON object") as info:
        client.send(TEXT)
    assert info.value.http_status == 200
    assert "proxy login" in info.value.message


def test_mark_read_posts_read_status_and_returns_success(client, mocked):
    mocked.post(f"{GRAPH}/{PNID}/messages", json={"success": True})
    assert client.mark_read("wamid.IN1") is True
    assert json.loads(mocked.calls[0].request.body) == {
        "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}


def test_mark_read_with_typing_adds_the_typing_indicator(client, mocked):
    mocked.post(f"{GRAPH}/{PNID}/messages", json={"success": True})
    client.mark_read("wamid.IN1", typing=True)
    body = json.loads(mocked.calls[0].request.body)
    assert body["typing_indicator"] == {"type": "text"}
    assert body["status"] == "read"


# --- errors ---------------------------------------------------------------

@pytest.mark.parametrize("status, code, expected", [
    (400, 131047, ErrorClass.WINDOW_CLOSED),
    (400, 130429, ErrorClass.THROTTLED),
    (400, 131056, ErrorClass.THROTTLED),
    (401, 190, ErrorClass.ADMIN),
    (400, 131026, ErrorClass.PERMANENT),
    (400, 100, ErrorClass.PERMANENT),
    (500, 131000, ErrorClass.RETRYABLE),
])
def test_meta_error_families_are_classified(client, mocked, status, code, expected):
    mocked.post(f"{GRAPH}/{PNID}/messages", json=meta_error(code), status=status)
    with pytest.raises(CloudApiError) as info:
        client.send(TEXT)
    assert info.value.code == code
    assert info.value.http_status == status
    assert info.value.error_class is expected


def test_meta_error_fields_are_carried_on_the_exception(client, mocked):
    body = meta_error(131047, "Re-engagement message", subcode=2494010,
                      details="Message failed to send because more than 24 hours have passed",
                      error_user_title="Outside window")
    mocked.post(f"{GRAPH}/{PNID}/messages", json=body, status=400)
    with pytest.raises(CloudApiError) as info:
        client.send(TEXT)
    err = info.value
    assert (err.message, err.subcode, err.title, err.fbtrace_id) == (
        "Re-engagement message", 2494010, "Outside window", "AbCdEf123")
    assert "24 hours" in err.details
    assert "131047" in str(err)


def test_throttled_error_carries_retry_after_seconds(client, mocked):
    mocked.post(f"{GRAPH}/{PNID}/messages", json=meta_error(130429, "Rate limit hit"),
                status=429, headers={"Retry-After": "120"})
    with pytest.raises(CloudApiError) as info:
        client.send(TEXT)
    assert info.value.error_class is ErrorClass.THROTTLED
    assert info.value.retryable
    assert info.value.retry_after == 120


def test_retry_after_http_date_becomes_seconds_from_now():
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Wed, 25 Nov 2026 12:01:30 GMT", now=now) == 90
    assert parse_retry_after("Wed, 25 Nov 2026 11:00:00 GMT", now=now) == 0


@pytest.mark.parametrize("value", [None, "", "soon", "Wed, 99 Foo"])
def test_unreadable_retry_after_is_none(value):
    assert parse_retry_after(value) is None


def test_html_502_page_becomes_a_retryable_error_with_a_short_excerpt(client, mocked):
    page = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 5000 + "</body></html>"
    mocked.post(f"{GRAPH}/{PNID}/messages", body=page, status=502,
                content_type="text/html")
    with pytest.raises(CloudApiError) as info:
        client.send(TEXT)
    err = info.value
    assert err.http_status == 502
    assert err.retryable
    assert "502 Bad Gateway" in err.message
    assert "<title>" not in err.message
    assert len(err.message) < 500


def test_timeout_becomes_a_retryable_transport_error(client, mocked):
    mocked.post(f"{GRAPH}/{PNID}/messages", body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(TransportError) as info:
        client.send(TEXT)
    assert info.value.retryable
    assert "may have reached Meta" in str(info.value)


def test_connection_error_becomes_a_retryable_transport_error(client, mocked):
    mocked.get(f"{GRAPH}/{PNID}", body=requests.exceptions.ConnectionError("Connection refused"))
    with pytest.raises(TransportError, match="Connection refused") as info:
        client.get_phone_number()
    assert info.value.error_class is ErrorClass.RETRYABLE
    assert isinstance(info.value.__cause__, requests.exceptions.ConnectionError)


def test_token_echoed_by_meta_never_reaches_error_text(client, mocked):
    body = meta_error(190, f"Invalid OAuth access token - Cannot parse access token {TOKEN}",
                      details=f"token={TOKEN}", error_user_title=TOKEN)
    mocked.post(f"{GRAPH}/{PNID}/messages", json=body, status=401)
    with pytest.raises(CloudApiError) as info:
        client.send(TEXT)
    err = info.value
    assert err.error_class is ErrorClass.ADMIN
    for text in (str(err), repr(err), err.message, err.details, err.title,
                 json.dumps(err.as_dict()), str(err.args)):
        assert TOKEN not in text
    assert "***" in err.message


def test_token_echoed_in_an_html_error_page_is_scrubbed(client, mocked):
    mocked.post(f"{GRAPH}/{PNID}/messages", status=503,
                body=f"<p>upstream said Authorization: Bearer {TOKEN}</p>")
    with pytest.raises(CloudApiError) as info:
        client.send(TEXT)
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)


def test_token_in_a_connection_error_is_scrubbed_and_not_chained(client, mocked):
    mocked.post(f"{GRAPH}/{PNID}/messages",
                body=requests.exceptions.ConnectionError(f"proxy refused Bearer {TOKEN}"))
    with pytest.raises(TransportError) as info:
        client.send(TEXT)
    assert TOKEN not in str(info.value)
    # A chained cause would print the token in any traceback.
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_debug_log_names_the_call_but_not_token_or_body(client, mocked, caplog):
    mocked.post(f"{GRAPH}/{PNID}/messages", json=SEND_OK)
    with caplog.at_level(logging.DEBUG, logger="campotech_whatsapp.cloud.client"):
        client.send(TEXT)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"POST /v24.0/{PNID}/messages -> 200" in logged
    assert TOKEN not in logged and "hola" not in logged


def test_2xx_carrying_an_error_object_raises(client, mocked):
    mocked.get(f"{GRAPH}/{PNID}", json=meta_error(100, "Unsupported get request"))
    with pytest.raises(CloudApiError, match="Unsupported get request") as info:
        client.get_phone_number()
    assert info.value.code == 100


# --- media -----------------------------------------------------------------

def test_upload_media_sends_multipart_file_type_and_product(client, mocked):
    content = b"%PDF-1.4 invoice"
    mocked.post(f"{GRAPH}/{PNID}/media", json={"id": "4490709327384033"}, match=[
        matchers.header_matcher(AUTH),
        matchers.multipart_matcher(
            {"file": ("factura.pdf", content, "application/pdf")},
            data={"type": "application/pdf", "messaging_product": "whatsapp"}),
    ])
    assert client.upload_media(content, "application/pdf", "factura.pdf") == "4490709327384033"


def test_upload_media_refuses_empty_content(client):
    with pytest.raises(ValueError):
        client.upload_media(b"", "image/jpeg", "a.jpg")


def _media_metadata(content, **overrides):
    meta = {"messaging_product": "whatsapp", "url": MEDIA_URL, "mime_type": "image/jpeg",
            "sha256": hashlib.sha256(content).hexdigest(), "file_size": str(len(content)),
            "id": "1037543291543636"}
    meta.update(overrides)
    return meta


def test_get_media_parses_metadata(client, mocked):
    mocked.get(f"{GRAPH}/1037543291543636", json=_media_metadata(b"abc"))
    info = client.get_media("1037543291543636")
    assert info == MediaInfo(id="1037543291543636", url=MEDIA_URL, mime_type="image/jpeg",
                             sha256=hashlib.sha256(b"abc").hexdigest(), file_size=3)


def test_fetch_media_downloads_with_bearer_header_and_checks_sha256(client, mocked):
    content = b"\xff\xd8\xff jpeg bytes"
    mocked.get(f"{GRAPH}/1037543291543636", json=_media_metadata(content))
    mocked.get(MEDIA_URL, body=content, content_type="image/jpeg")
    data, info = client.fetch_media("1037543291543636")
    assert data == content
    assert info.mime_type == "image/jpeg"
    assert [c.request.headers["Authorization"] for c in mocked.calls] == ["Bearer " + TOKEN] * 2
    assert mocked.calls[1].request.url == MEDIA_URL
    assert mocked.calls[1].request.req_kwargs["timeout"] == C.DEFAULT_TIMEOUT


def test_fetch_media_accepts_the_base64_hash_webhooks_carry(client, mocked):
    content = b"voice note"
    mocked.get(f"{GRAPH}/55", json=_media_metadata(content, sha256=None))
    mocked.get(MEDIA_URL, body=content)
    webhook_hash = base64.b64encode(hashlib.sha256(content).digest()).decode()
    data, _info = client.fetch_media("55", expected_sha256=webhook_hash)
    assert data == content


def test_fetch_media_sha256_mismatch_raises_retryable_integrity_error(client, mocked):
    content = b"full picture"
    mocked.get(f"{GRAPH}/55", json=_media_metadata(content))
    mocked.get(MEDIA_URL, body=content[:4])
    with pytest.raises(MediaIntegrityError) as info:
        client.fetch_media("55")
    assert info.value.retryable
    assert isinstance(info.value, CloudApiError)


def test_webhook_hash_takes_precedence_over_metadata_hash(client, mocked):
    content = b"the real bytes"
    mocked.get(f"{GRAPH}/55", json=_media_metadata(content))
    mocked.get(MEDIA_URL, body=content)
    with pytest.raises(MediaIntegrityError):
        client.fetch_media("55", expected_sha256=hashlib.sha256(b"other").hexdigest())


def test_fetch_media_without_any_hash_still_catches_a_short_download(client, mocked):
    mocked.get(f"{GRAPH}/55", json=_media_metadata(b"0123456789", sha256=None))
    mocked.get(MEDIA_URL, body=b"01234")
    with pytest.raises(MediaIntegrityError, match="5 bytes"):
        client.fetch_media("55")


def test_download_refuses_a_body_larger_than_max_bytes(client, mocked):
    mocked.get(MEDIA_URL, body=b"x" * 5000, auto_calculate_content_length=False)
    with pytest.raises(CloudApiError, match="larger than the 1000 bytes") as info:
        client.download_media(MEDIA_URL, max_bytes=1000)
    assert info.value.error_class is ErrorClass.PERMANENT


def test_download_refuses_a_declared_content_length_over_the_cap(client, mocked):
    too_big = str(C.MEDIA_DOWNLOAD_MAX_BYTES + 1)
    mocked.get(MEDIA_URL, body=b"x" * 10, headers={"Content-Length": too_big})
    with pytest.raises(CloudApiError, match="larger than"):
        client.download_media(MEDIA_URL)


def test_download_of_an_expired_url_raises_with_http_status(client, mocked):
    mocked.get(MEDIA_URL, status=404, body="Not Found")
    with pytest.raises(CloudApiError) as info:
        client.download_media(MEDIA_URL)
    assert info.value.http_status == 404
    assert "lookaside.fbsbx.com" in info.value.message


def test_download_never_sends_the_token_over_plain_http_to_another_host(client, mocked):
    with pytest.raises(CloudApiError, match="non-https"):
        client.download_media("http://evil.example/steal")
    assert len(mocked.calls) == 0


def test_delete_media_returns_success(client, mocked):
    mocked.delete(f"{GRAPH}/55", json={"success": True}, match=[matchers.header_matcher(AUTH)])
    assert client.delete_media("55") is True


# --- templates and account ---------------------------------------------------

def test_list_templates_follows_paging_next_keeping_the_bearer_header(client, mocked):
    page2 = (f"{GRAPH}/{WABA}/message_templates?fields=name%2Cstatus&limit=2"
             f"&access_token={TOKEN}&after=CURSOR2")
    mocked.get(f"{GRAPH}/{WABA}/message_templates", json={
        "data": [{"name": "a"}, {"name": "b"}],
        "paging": {"cursors": {"after": "CURSOR2"}, "next": page2},
    }, match=[matchers.query_param_matcher({"fields": "name,status", "limit": "2"})])
    mocked.get(f"{GRAPH}/{WABA}/message_templates", json={
        "data": [{"name": "c"}], "paging": {"cursors": {"before": "CURSOR2"}},
    }, match=[matchers.query_param_matcher(
        {"fields": "name,status", "limit": "2", "after": "CURSOR2"})])
    templates = client.list_templates(fields=["name", "status"], limit=2)
    assert [t["name"] for t in templates] == ["a", "b", "c"]
    assert all(c.request.headers["Authorization"] == "Bearer " + TOKEN for c in mocked.calls)
    # The token travels in the header only, never in a URL that could be logged.
    assert TOKEN not in mocked.calls[1].request.url


def test_list_templates_refuses_paging_to_another_host(client, mocked):
    mocked.get(f"{GRAPH}/{WABA}/message_templates", json={
        "data": [{"name": "a"}], "paging": {"next": "https://evil.example/v24.0/x?after=1"}})
    with pytest.raises(CloudApiError, match="refusing to follow"):
        client.list_templates()
    assert len(mocked.calls) == 1


def test_list_templates_stops_when_paging_next_repeats(client, mocked):
    loop = f"{GRAPH}/{WABA}/message_templates?after=SAME"
    mocked.get(f"{GRAPH}/{WABA}/message_templates",
               json={"data": [{"name": "a"}], "paging": {"next": loop}})
    with pytest.raises(CloudApiError, match="repeats"):
        client.list_templates()
    assert len(mocked.calls) == 2  # the first page, then the looping one once


def test_list_templates_without_waba_id_raises_value_error():
    with pytest.raises(ValueError, match="waba_id"):
        CloudClient(TOKEN, PNID).list_templates()


def test_create_template_posts_definition_to_the_waba(client, mocked):
    definition = {"name": "turno_confirmado", "language": "es_AR", "category": "UTILITY",
                  "components": [{"type": "BODY", "text": "Hola {{1}}"}]}
    answer = {"id": "594425479261596", "status": "PENDING", "category": "UTILITY"}
    mocked.post(f"{GRAPH}/{WABA}/message_templates", json=answer,
                match=[matchers.json_params_matcher(definition), matchers.header_matcher(AUTH)])
    assert client.create_template(definition) == answer


def test_get_phone_number_asks_for_the_connection_test_fields(client, mocked):
    answer = {"display_phone_number": "+54 9 11 5555-0000", "verified_name": "Campotech",
              "quality_rating": "GREEN", "id": PNID}
    mocked.get(f"{GRAPH}/{PNID}", json=answer, match=[matchers.query_param_matcher({
        "fields": "display_phone_number,verified_name,quality_rating,"
                  "code_verification_status,throughput"})])
    assert client.get_phone_number()["verified_name"] == "Campotech"


@responses.activate
def test_get_media_without_a_url_is_worth_asking_again():
    responses.add(responses.GET, "https://graph.facebook.com/v24.0/MEDIA9",
                  json={"id": "MEDIA9", "mime_type": "image/jpeg"})
    client = CloudClient("EAAG-secret", phone_number_id="PN1")
    with pytest.raises(TransportError) as caught:
        client.get_media("MEDIA9")
    assert caught.value.retryable
    assert caught.value.as_dict()["retry_after"] is None


# --- resumable upload (template header samples) ----------------------------------

APP = "1234567890"
PDF = b"%PDF-1.4 sample\n%%EOF\n"


def test_upload_sample_opens_a_session_then_sends_the_bytes_and_returns_the_handle(
        client, mocked):
    mocked.post(GRAPH + "/%s/uploads" % APP, json={"id": "upload:MTphdHRhY2htZW50"}, match=[
        matchers.query_param_matcher({"file_name": "factura.pdf", "file_length": str(len(PDF)),
                                      "file_type": "application/pdf"}),
        matchers.header_matcher(AUTH)])
    mocked.post(GRAPH + "/upload:MTphdHRhY2htZW50", json={"h": "4::aW1hZ2UvcGRm"}, match=[
        matchers.header_matcher({"Authorization": "OAuth " + TOKEN, "file_offset": "0"})])
    assert client.upload_sample(APP, PDF, "application/pdf", "factura.pdf") == "4::aW1hZ2UvcGRm"
    assert mocked.calls[1].request.body == PDF


def test_upload_sample_meta_error_is_a_cloud_api_error_without_the_token(client, mocked):
    mocked.post(GRAPH + "/%s/uploads" % APP, json={"id": "upload:S1"})
    mocked.post(GRAPH + "/upload:S1", status=400, json=meta_error(
        100, "Invalid OAuth access token %s for file_offset" % TOKEN, details="token " + TOKEN))
    with pytest.raises(CloudApiError) as excinfo:
        client.upload_sample(APP, PDF, "application/pdf", "factura.pdf")
    error = excinfo.value
    assert error.code == 100 and error.http_status == 400
    assert error.error_class is ErrorClass.PERMANENT
    assert TOKEN not in "%s %r %s" % (error, error, error.details)


def test_upload_sample_without_a_session_id_is_a_transport_error(client, mocked):
    mocked.post(GRAPH + "/%s/uploads" % APP, json={"success": True})
    with pytest.raises(TransportError, match="upload session"):
        client.upload_sample(APP, PDF, "application/pdf", "factura.pdf")


def test_upload_sample_refuses_a_missing_app_id_before_any_request(client, mocked):
    with pytest.raises(ValueError, match="App ID"):
        client.upload_sample("", PDF, "application/pdf", "factura.pdf")
