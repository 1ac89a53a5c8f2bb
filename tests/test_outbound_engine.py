"""Engine pieces of the send side: failure types, media checks and resolution."""

import pytest

from campotech_whatsapp.cloud import builders, constants as C
from campotech_whatsapp.cloud.errors import (
    CloudApiError, MediaTooLargeError, PayloadError, TransportError, failure_type)
from campotech_whatsapp.cloud.throttle import MemoryStore, PairPacer, TokenBucket


def meta(code, http_status=400):
    return CloudApiError("meta says no", code=code, http_status=http_status)


@pytest.mark.parametrize("code, expected", [
    (131047, "window_closed"),
    (131026, "undeliverable"),
    (131030, "undeliverable"),
    (131048, "undeliverable"),
    (132001, "template"),
    (132015, "template"),
    (132016, "template"),
    (132000, "invalid_parameter"),
    (131009, "invalid_parameter"),
    (100, "invalid_parameter"),
    (132018, "invalid_parameter"),
    (190, "token"),
    (10, "token"),
    (200, "token"),
    (131053, "media_too_large"),
    (131000, "unknown"),
    (130429, "unknown"),
    (999999, "unknown"),
])
def test_meta_codes_map_to_a_failure_type(code, expected):
    assert failure_type(meta(code)) == expected
    assert expected in C.FAILURE_TYPES


def test_failure_type_of_our_own_refusals_and_transport_errors():
    assert failure_type(MediaTooLargeError("too big")) == "media_too_large"
    assert failure_type(PayloadError("bad")) == "invalid_parameter"
    assert failure_type(TransportError("timeout")) == "unknown"
    assert failure_type(RuntimeError("bug")) == "unknown"
    # An unknown code that Meta's classification calls an admin problem is a token issue.
    assert failure_type(CloudApiError("x", code=7, error_class="admin")) == "token"


@pytest.mark.parametrize("mime, kind", [
    ("image/jpeg", "image"), ("image/png", "image"), ("video/mp4", "video"),
    ("audio/ogg; codecs=opus", "audio"), ("image/webp", "sticker"),
    ("application/pdf", "document"), ("image/gif", "document"), (None, "document"),
])
def test_media_kind_follows_meta_mime_lists(mime, kind):
    assert builders.media_kind(mime) == kind


def test_check_media_file_names_the_limit():
    assert builders.check_media_file("image", "image/png", 5 * 1024 * 1024) == "image"
    with pytest.raises(MediaTooLargeError, match="image file is 6.0 MB; WhatsApp accepts "
                                                 "image files up to 5.0 MB"):
        builders.check_media_file("image", "image/png", 6 * 1024 * 1024)
    with pytest.raises(MediaTooLargeError, match="up to 100.0 MB"):
        builders.check_media_file("document", "application/zip", 101 * 1024 * 1024)
    with pytest.raises(MediaTooLargeError, match="video files of type video/mp4, video/3gpp"):
        builders.check_media_file("video", "video/webm", 1000)
    with pytest.raises(PayloadError, match="empty"):
        builders.check_media_file("image", "image/png", 0)


def test_media_object_takes_an_attachment_to_upload_later():
    obj = builders.media_object("document", attachment_id=7, filename="factura.pdf")
    assert obj == {"attachment_id": 7, "filename": "factura.pdf"}
    with pytest.raises(PayloadError, match="exactly one"):
        builders.media_object("image", media_id="1", attachment_id=7)
    with pytest.raises(PayloadError, match="record id"):
        builders.media_object("image", attachment_id="7")
    with pytest.raises(PayloadError, match="record id"):
        builders.media_object("image", attachment_id=True)


def test_resolve_media_replaces_every_attachment_and_leaves_the_rest():
    payload = builders.media("5491155556666", "image", attachment_id=3, caption="Así quedó")
    template = builders.template("5491155556666", "factura_lista", "es_AR", [
        {"type": "header", "parameters": [
            {"type": "document", "document": {"attachment_id": 9, "filename": "F-1.pdf"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Juana"}]}])
    uploads = []

    def upload(attachment_id):
        uploads.append(attachment_id)
        return "media-%s" % attachment_id

    assert builders.media_attachments(template) == [9]
    resolved = builders.resolve_media(payload, upload)
    assert resolved["image"] == {"id": "media-3", "caption": "Así quedó"}
    resolved_template = builders.resolve_media(template, upload)
    header = resolved_template["template"]["components"][0]["parameters"][0]
    assert header == {"type": "document", "document": {"id": "media-9", "filename": "F-1.pdf"}}
    assert resolved_template["template"]["components"][1] == template["template"]["components"][1]
    assert uploads == [3, 9]
    assert payload["image"]["attachment_id"] == 3, "the stored payload is not changed"
    assert builders.media_attachments(resolved_template) == []


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_two_workers_sharing_one_store_stay_under_the_cap_together():
    clock, store = FakeClock(), MemoryStore()
    workers = [TokenBucket(10, burst=1, store=store, clock=clock) for _ in range(2)]
    waits = [workers[i % 2].reserve("1001") for i in range(20)]
    # 20 slots at 10/s, whichever worker asks: the last one is 1.9 s away.
    assert waits[0] == 0
    assert waits[-1] == pytest.approx(1.9)
    assert waits == sorted(waits)


def test_pair_pacer_delays_one_customer_only():
    clock, store = FakeClock(), MemoryStore()
    pair = PairPacer(store=store, clock=clock)
    key = PairPacer.pair_key("1001", "5491155556666")
    for _ in range(C.PAIR_BURST):
        assert pair.delay(key) == 0
        pair.reserve(key)
    assert pair.delay(key) == pytest.approx(C.PAIR_RATE_SECONDS)
    assert pair.delay(PairPacer.pair_key("1001", "5491199990000")) == 0
    assert PairPacer.pair_key("1001", "541155556666") == key, "549/54 are one customer"
