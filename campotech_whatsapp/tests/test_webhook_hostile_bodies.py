"""Hostile and broken bodies through the real controller: never a 500.

Whatever is posted, signed or not, the answer is 200 (stored byte for byte),
403 (no secret verifies it) or 413 (too large), and processing the stored
logs ends in a clear state: done, or an error saying what cannot be stored.
"""

import base64
import copy
import gzip
import json
import random

from odoo.tests import HttpCase, tagged

from ..cloud import constants as C, webhook
from .common import SECRET_A, WhatsAppMixin

URL = "/whatsapp/webhook"
LOGGER = "odoo.addons.campotech_whatsapp.models.wa_webhook_log"
ENVELOPE = b'{"object": "whatsapp_business_account", "entry": [{"id": "2001", "changes": ['
# What an error of a processed hostile log may say; anything else (a Python
# exception's name, a database error) means something slipped through.
KNOWN_ERRORS = ("Not a WhatsApp webhook", "not stored", "Skipped change", "not applied",
                "Unknown phone_number_id", "Ignored webhook field", "Skipped a change",
                "Meta reported error", "for unknown message", "WebhookPayloadError")
ODD_VALUES = ["\x00", "a\x00b", "\ud800", "x\udfffy", "9" * 5000, "N" * 100_000, "١٢٣", -1,
              10**30, 1.5e308, True, None, [], {}, [[[[["deep"]]]]], "", "wamid.\x00",
              {"body": "\x00\ud800"}, "+5491155556666"]


def odd_json_numbers():
    return [
        ENVELOPE + b'{"field": "messages", "value": {"metadata": {"phone_number_id": 1'
        + b"0" * 5000 + b"}}}]}]}",
        b'{"object": "whatsapp_business_account", "entry": [], "n": NaN}',
        b'{"object": "whatsapp_business_account", "entry": [{"id": 1e999}]}',
    ]


@tagged("post_install", "-at_install")
class TestWebhookHostileBodies(WhatsAppMixin, HttpCase):

    def post(self, raw, signature):
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        # Not url_open: it turns a POST with an empty body into a GET.
        return self.opener.post(self.base_url() + URL, data=raw, headers=headers, timeout=30)

    def logs(self):
        return self.env["wa.webhook.log"].sudo().search([], order="id")

    def valid_body(self, **message):
        payload = self.inbound_payload(self.account_a, dict({"type": "text", "text": "Hola"},
                                                            **message))
        return payload

    def hostile_bodies(self):
        """Bodies of each class that once made the endpoint answer 500, and more."""
        rng = random.Random(11)
        valid = self.encode(self.valid_body())
        bodies = [
            b"", b"\x00", b"\x00" * 64, bytes(range(256)), b"\xff\xfe{}", "\ufeff{}".encode(),
            valid.decode().encode("utf-16"), valid.decode().encode("utf-32"), gzip.compress(valid),
            valid[: len(valid) // 2], valid + b"\x00", valid.replace(b'"Hola"', b'"Ho\x00la"'),
            b"[]", b'"text"', b"null", b"42", b"{}", b'{"object": "page"}', b"[" * 20_000,
            b'{"object": ' + b"[" * 3000 + b"]" * 3000 + b"}",
            b'{"object": "whatsapp_business_account", "entry": "x"}',
        ] + odd_json_numbers()
        bodies += [bytes(rng.randrange(256) for _byte in range(rng.randrange(1, 400)))
                   for _body in range(8)]
        # One odd value at a time where Meta puts ids, names, text and kinds.
        paths = [("entry", 0, "id"), ("entry", 0, "changes", 0, "field"),
                 ("entry", 0, "changes", 0, "value", "metadata", "phone_number_id"),
                 ("entry", 0, "changes", 0, "value", "contacts", 0, "wa_id"),
                 ("entry", 0, "changes", 0, "value", "contacts", 0, "profile", "name"),
                 ("entry", 0, "changes", 0, "value", "messages", 0, "id"),
                 ("entry", 0, "changes", 0, "value", "messages", 0, "from"),
                 ("entry", 0, "changes", 0, "value", "messages", 0, "type"),
                 ("entry", 0, "changes", 0, "value", "messages", 0, "timestamp"),
                 ("entry", 0, "changes", 0, "value", "messages", 0, "text", "body"),
                 ("entry", 0, "changes", 0, "value", "messages", 0, "context")]
        for path in paths:
            for value in rng.sample(ODD_VALUES, 3):
                payload = self.valid_body()
                target = payload
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = copy.deepcopy(value)
                bodies.append(json.dumps(payload).encode())
        return bodies

    def test_hostile_bodies_get_403_unsigned_and_are_kept_exactly_when_signed(self):
        bodies = self.hostile_bodies()
        for raw in bodies:
            for signature in (None, webhook.sign(raw, "not-the-secret"), "md5=" + "é" * 10):
                with self.assertLogs(LOGGER, "WARNING") as logged:
                    response = self.post(raw, signature)
                self.assertEqual(response.status_code, 403, raw[:60])
                self.assertEqual(len(logged.output), 1, "one line per refused request")
        self.assertFalse(self.logs(), "nothing unsigned is stored")
        for raw in bodies:
            response = self.post(raw, webhook.sign(raw, SECRET_A))
            self.assertEqual(response.status_code, 200, raw[:60])
        logs = self.logs()
        self.assertEqual(len(logs), len(bodies))
        for log, raw in zip(logs, bodies):
            self.assertEqual(log._raw_body(), raw)
            self.assertEqual(base64.b64decode(log.payload_raw or b""), raw)
            self.assertEqual(log.account_id, self.account_a)
            self.assertNotIn("\x00", log.payload or "")
            self.assertTrue(log.payload_pretty is not None)
            self.assertLessEqual(len(log.event_type), 1000)
        self.env["wa.webhook.log"]._cron_process()
        logs.action_reprocess()
        for log, raw in zip(logs, bodies):
            self.assertIn(log.state, ("done", "error"), raw[:60])
            if log.state == "error":
                self.assertTrue(any(text in log.error_message for text in KNOWN_ERRORS),
                                "%r: %s" % (raw[:60], log.error_message[:300]))
                self.assertFalse(log.next_attempt_at, "no retry can read it better")

    def test_a_signed_body_that_is_not_a_webhook_is_kept_unread_and_not_processed(self):
        raw = b"\x1f\x8b\x00\xff binary \x00 garbage"
        cron = self.env.ref("campotech_whatsapp.ir_cron_wa_webhook_process")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.assertEqual(self.post(raw, webhook.sign(raw, SECRET_A)).status_code, 200)
        log = self.logs()
        self.assertEqual(log._raw_body(), raw)
        self.assertEqual(log.state, "error")
        self.assertIn("not UTF-8", log.error_message)
        self.assertEqual(log.event_type, "unknown")
        self.assertEqual(log.payload, "\\x1f\\x8b\\x00\\xff binary \\x00 garbage")
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
                         triggers, "nothing to process")
        self.env["wa.webhook.log"]._cron_process()
        self.assertEqual(log.attempts, 0, "the cron leaves it to a person")

    def test_an_unstorable_message_fails_alone_and_is_not_retried(self):
        payload = self.valid_body()
        bad = self.valid_body(text="Hola otra vez")["entry"][0]["changes"][0]["value"]["messages"][0]
        bad["id"] = "wamid." + "A" * 100_000
        payload["entry"][0]["changes"][0]["value"]["messages"].append(bad)
        raw = self.encode(payload)
        self.assertEqual(self.post(raw, webhook.sign(raw, SECRET_A)).status_code, 200)
        self.env["wa.webhook.log"]._cron_process()
        log = self.logs()
        self.assertEqual(self.env["wa.message"].search([]).mapped("body"), ["Hola"])
        self.assertEqual(log.state, "error")
        self.assertIn("not stored", log.error_message)
        self.assertIn("more than the %d" % C.WAMID_MAX, log.error_message)
        self.assertFalse(log.next_attempt_at)
        self.assertEqual(log.attempts, 1)
        self.env["wa.webhook.log"]._cron_process()
        self.assertEqual(log.attempts, 1, "not due again")

    def test_odd_text_is_stored_readable_and_long_names_are_cut(self):
        payload = self.valid_body(text="Ho\x00la \ud83d")
        value = payload["entry"][0]["changes"][0]["value"]
        value["contacts"][0]["profile"]["name"] = "Ñ" * 100_000
        raw = json.dumps(payload).encode()
        self.assertEqual(self.post(raw, webhook.sign(raw, SECRET_A)).status_code, 200)
        self.env["wa.webhook.log"]._cron_process()
        self.assertEqual(self.logs().state, "done")
        message = self.env["wa.message"].search([])
        self.assertEqual(message.body, "Ho\ufffdla \ufffd")
        self.assertEqual(len(message.conversation_id.customer_name), C.PROFILE_NAME_MAX)

    def test_a_body_over_the_limit_is_refused_with_413(self):
        raw = b" " * (C.WEBHOOK_BODY_MAX_BYTES + 1)
        with self.assertLogs(LOGGER, "WARNING"):
            response = self.post(raw, webhook.sign(raw, SECRET_A))
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self.logs())
