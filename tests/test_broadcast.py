"""The optional Pusher broadcaster against the local stand-in of Pusher's HTTP API.

Nothing is mocked: the real ``pusher`` library signs and sends over HTTP to
a stand-in on 127.0.0.1 that verifies the signature as Pusher does.
"""

import json
import logging
import time

import pytest
import requests

from campotech_whatsapp.cloud import broadcast
from campotech_whatsapp.cloud.broadcast import Broadcaster, PusherConfig
from campotech_whatsapp.cloud.simulator.pusher_standin import PusherStandIn, sign, string_to_sign

pytest.importorskip("pusher")

APP, KEY, SECRET = "4242", "dashboard-key", "pusher-secret-never-logged"
OTHER_APP, OTHER_KEY, OTHER_SECRET = "4343", "other-key", "other-secret"
NEW = "campotech_whatsapp/new-message"


@pytest.fixture
def standin():
    with PusherStandIn({APP: (KEY, SECRET), OTHER_APP: (OTHER_KEY, OTHER_SECRET)}) as server:
        yield server


def config_for(server, app=APP, key=KEY, secret=SECRET, **extra):
    return PusherConfig(app_id=app, key=key, secret=secret, host="127.0.0.1",
                        port=server.port, ssl=False, **extra)


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def items(count, conversation_id=7):
    out = []
    for index in range(count):
        out += broadcast.event_items(1, conversation_id, NEW, {
            "conversation_id": conversation_id, "message": {"id": index, "body": "Hola %d" % index}})
    return out


# --- names, sizes, batches ------------------------------------------------------

def test_channels_and_event_names_are_the_seeds():
    assert broadcast.channels_for(3, 15) == ["whatsapp-org-3", "whatsapp-conv-15"]
    assert broadcast.channels_for(3) == ["whatsapp-org-3"]
    assert broadcast.channels_for(3, 15, private=True) == [
        "private-whatsapp-org-3", "private-whatsapp-conv-15"]
    assert {broadcast.pusher_event_name("campotech_whatsapp/" + name) for name in (
        "new-message", "status-update", "conversation-update", "typing")} == {
        "new-message", "status-update", "conversation-update", "typing"}
    with pytest.raises(ValueError):
        broadcast.pusher_event_name("mail.record/insert")


def test_one_event_goes_to_the_company_and_the_conversation_channels_with_the_same_data():
    payload = {"conversation_id": 15, "message": {"id": 9, "body": "Se me rompió el aire"}}
    out = broadcast.event_items(3, 15, NEW, payload)
    assert [(i["channel"], i["name"]) for i in out] == [
        ("whatsapp-org-3", "new-message"), ("whatsapp-conv-15", "new-message")]
    assert json.loads(out[0]["data"]) == payload
    assert out[0]["data"] == out[1]["data"]


def test_a_payload_over_10_kb_is_cut_and_marked_truncated():
    long_body = "ñ" * 30000
    payload = {"conversation_id": 15, "message": {"id": 9, "body": long_body, "type": "text"},
               "conversation": {"id": 15, "preview": long_body}}
    data = broadcast.encode_data(payload)
    assert len(data.encode("utf-8")) <= broadcast.MAX_DATA_BYTES
    parsed = json.loads(data)
    assert parsed["truncated"] is True
    assert parsed["conversation_id"] == 15
    assert parsed["message"]["id"] == 9
    assert parsed["message"]["body"].startswith("ñ" * 50)
    small = {"conversation_id": 1, "message": {"id": 2, "body": "Hola"}}
    assert json.loads(broadcast.encode_data(small)) == small


def test_a_payload_of_many_short_texts_keeps_its_ids_only():
    payload = {"conversation_id": 15, "state": "read",
               "message": {"id": 9, "contacts": [{"name": "x" * 150} for _ in range(200)]}}
    parsed = json.loads(broadcast.encode_data(payload))
    assert parsed == {"conversation_id": 15, "state": "read", "message_id": 9, "truncated": True}


def test_secret_named_keys_never_leave():
    payload = {"conversation_id": 1, "access_token": "EAAG", "nested": {
        "app_secret": "x", "auth_signature": "y", "password": "z", "body": "ok"}}
    assert json.loads(broadcast.encode_data(payload)) == {"conversation_id": 1,
                                                          "nested": {"body": "ok"}}


def test_batches_hold_at_most_ten_events():
    assert [len(chunk) for chunk in broadcast.chunks(range(23))] == [10, 10, 3]
    assert broadcast.chunks([]) == []


def test_config_repr_and_label_never_show_the_secret():
    config = PusherConfig(app_id="4242", key="k", secret=SECRET, cluster="us2")
    assert SECRET not in repr(config)
    assert SECRET not in config.label
    assert config.label == "Pusher app 4242 at api-us2.pusher.com"
    with pytest.raises(ValueError):
        PusherConfig(app_id="not-a-number", key="k", secret="s")
    with pytest.raises(ValueError):
        PusherConfig(app_id="1", key="k", secret="")


def test_the_library_client_uses_the_configured_endpoint():
    client = PusherConfig(app_id="4242", key="k", secret="s", host="127.0.0.1", port=9,
                          ssl=False).client()._pusher_client
    assert (client.host, client.port, client.ssl) == ("127.0.0.1", 9, False)
    assert PusherConfig(app_id="1", key="k", secret="s", cluster="us2").client(
    )._pusher_client.host == "api-us2.pusher.com"


# --- the stand-in verifies as Pusher does -----------------------------------------

def test_signing_matches_pushers_worked_example():
    # Pusher's HTTP API reference, "Worked authentication example".
    params = {"auth_key": "278d425bdf160c739803", "auth_timestamp": "1353088179",
              "auth_version": "1.0", "body_md5": "ec365a775a4cd0599faeb73354201b6f"}
    assert string_to_sign("POST", "/apps/3/events", params) == (
        "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179"
        "&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f")
    assert sign("7ad3773142a6692b25b8", "POST", "/apps/3/events", params) == (
        "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c")


def test_the_library_is_accepted_and_the_events_are_recorded(standin):
    problem = Broadcaster().send(config_for(standin), items(1))
    assert problem is None
    events = standin.events(app_id=APP)
    assert [(e["channel"], e["name"]) for e in events] == [
        ("whatsapp-org-1", "new-message"), ("whatsapp-conv-7", "new-message")]
    assert events[0]["data"]["message"]["body"] == "Hola 0"


def _signed_post(server, path, body, secret=SECRET, key=KEY, timestamp=None, md5=None):
    import hashlib  # pylint: disable=import-outside-toplevel
    params = {"auth_key": key, "auth_timestamp": str(int(timestamp or time.time())),
              "auth_version": "1.0", "body_md5": md5 or hashlib.md5(body).hexdigest()}
    params["auth_signature"] = sign(secret, "POST", path, params)
    return requests.post("http://127.0.0.1:%d%s" % (server.port, path), params=params, data=body,
                         headers={"Content-Type": "application/json"}, timeout=5)


def test_a_wrong_secret_stale_timestamp_or_altered_body_is_refused(standin):
    path = "/apps/%s/events" % APP
    body = json.dumps({"name": "typing", "channels": ["whatsapp-org-1"], "data": "{}"}).encode()
    assert _signed_post(standin, path, body).status_code == 200
    assert _signed_post(standin, path, body, secret="guessed").status_code == 401
    assert _signed_post(standin, path, body, key=OTHER_KEY).status_code == 401
    assert _signed_post(standin, path, body, timestamp=time.time() - 601).status_code == 401
    assert _signed_post(standin, path, body, md5="0" * 32).status_code == 401
    unsigned = requests.post("http://127.0.0.1:%d%s" % (standin.port, path), data=body, timeout=5)
    assert unsigned.status_code == 401
    assert _signed_post(standin, "/apps/999/events", body).status_code == 404
    assert len(standin.events()) == 1
    assert [r["status"] for r in standin.requests()] == [200, 401, 401, 401, 401, 401, 404]


def test_the_stand_in_refuses_what_pusher_refuses(standin):
    path = "/apps/%s/batch_events" % APP
    eleven = [{"channel": "whatsapp-org-1", "name": "typing", "data": "{}"}] * 11
    assert _signed_post(standin, path, json.dumps({"batch": eleven}).encode()).status_code == 400
    big = [{"channel": "whatsapp-org-1", "name": "typing", "data": "x" * 10241}]
    assert _signed_post(standin, path, json.dumps({"batch": big}).encode()).status_code == 413
    bad = [{"channel": "whatsapp org 1", "name": "typing", "data": "{}"}]
    assert _signed_post(standin, path, json.dumps({"batch": bad}).encode()).status_code == 400
    assert not standin.events()


def test_twenty_three_events_go_in_three_batch_calls(standin):
    problem = Broadcaster().send(config_for(standin), items(23, conversation_id=None))
    assert problem is None
    assert [r["path"] for r in standin.requests()] == ["/apps/%s/batch_events" % APP] * 3
    assert [e["data"]["message"]["id"] for e in standin.events()] == list(range(23))


def test_each_app_receives_only_its_own_events(standin):
    sender = Broadcaster()
    sender.send(config_for(standin), items(1))
    sender.send(config_for(standin, OTHER_APP, OTHER_KEY, OTHER_SECRET), broadcast.event_items(
        2, 8, "campotech_whatsapp/typing", {"conversation_id": 8, "user_id": 5}))
    assert {e["channel"] for e in standin.events(app_id=APP)} == {"whatsapp-org-1", "whatsapp-conv-7"}
    assert {e["channel"] for e in standin.events(app_id=OTHER_APP)} == {
        "whatsapp-org-2", "whatsapp-conv-8"}


# --- failures are swallowed and logged without the secret --------------------------

def test_errors_are_swallowed_and_logged_without_the_secret(standin, caplog):
    caplog.set_level(logging.DEBUG)
    sender = Broadcaster()
    standin.fail(500, count=1)
    assert "PusherBadStatus" in sender.send(config_for(standin), items(1))
    wrong = sender.send(config_for(standin, secret="a-wrong-secret-value"), items(1))
    assert "PusherBadAuth" in wrong
    port = standin.port
    standin.stop()  # nothing listens any more
    down = PusherConfig(app_id=APP, key=KEY, secret=SECRET, host="127.0.0.1", port=port, ssl=False)
    assert sender.send(down, items(1)) == "ConnectionError"
    assert sender.stats == {"sent": 0, "failed": 6, "dropped": 0}
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "events not delivered" in logged
    for secret in (SECRET, "a-wrong-secret-value"):
        assert secret not in logged


def test_the_worker_sends_in_the_background_and_a_hung_pusher_does_not_hold_the_caller(standin):
    sender = Broadcaster()
    standin.hang()
    assert sender.submit(config_for(standin), items(1)) is True  # returns at once
    assert wait_for(lambda: standin.in_flight == 1), "the worker's call reached the stand-in"
    assert not standin.events()
    standin.release()
    assert sender.wait_idle()
    assert len(standin.events()) == 2 and sender.stats["sent"] == 2


def test_a_full_queue_drops_with_a_log_line(standin, caplog):
    sender = Broadcaster(maxsize=1)
    standin.hang()
    config = config_for(standin)
    assert sender.submit(config, items(1))
    assert wait_for(lambda: standin.in_flight == 1)
    assert sender.submit(config, items(1))  # waits in the queue
    with caplog.at_level(logging.WARNING):
        assert sender.submit(config, items(1)) is False
    assert sender.stats["dropped"] == 2
    assert "queue full" in caplog.text and SECRET not in caplog.text
    standin.release()
    assert sender.wait_idle()
    assert len(standin.events()) == 4


def test_a_library_error_in_the_worker_does_not_stop_it(standin):
    calls = []

    def factory(config):
        calls.append(config.app_id)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return config.client()

    sender = Broadcaster(client_factory=factory)
    sender.submit(config_for(standin), items(1))
    assert sender.wait_idle()
    sender.submit(config_for(standin), items(1))
    assert sender.wait_idle()
    assert sender.stats == {"sent": 2, "failed": 2, "dropped": 0}
    assert len(standin.events()) == 2
