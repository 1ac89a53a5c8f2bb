from odoo.tests import HttpCase, tagged

from ..cloud import webhook
from ..controllers.main import HTTP_ANSWERS
from ..models.wa_webhook_log import MAX_BODY_BYTES
from .common import SECRET_A, SECRET_B, WhatsAppMixin

URL = "/whatsapp/webhook"
LOGGER = "odoo.addons.campotech_whatsapp.models.wa_webhook_log"


@tagged("post_install", "-at_install")
class TestWebhookController(WhatsAppMixin, HttpCase):

    def post(self, raw, signature):
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return self.url_open(URL, data=raw, headers=headers)

    def logs(self):
        return self.env["wa.webhook.log"].sudo().search([])

    def test_handshake_echoes_the_challenge_for_the_right_token(self):
        response = self.url_open(
            URL + "?hub.mode=subscribe&hub.verify_token=verify-a&hub.challenge=1158201444")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text, "1158201444")
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain"))

    def test_handshake_refuses_a_wrong_token(self):
        with self.assertLogs("odoo.addons.campotech_whatsapp.controllers.main", "WARNING"):
            response = self.url_open(
                URL + "?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444")
        self.assertEqual(response.status_code, 403)
        self.assertNotIn("1158201444", response.text)

    def test_signed_webhook_is_stored_raw_and_wakes_the_processing_cron(self):
        raw = self.encode(self.inbound_payload(self.account_a, {"type": "text", "text": "Hola"}))
        raw = raw.replace(b'{"object"', b'{ "object"')  # bytes as sent, not re-serialised
        cron = self.env.ref("campotech_whatsapp.ir_cron_wa_webhook_process")
        triggers_before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        response = self.post(raw, webhook.sign(raw, SECRET_A))
        self.assertEqual(response.status_code, 200)
        log = self.logs()
        self.assertEqual(len(log), 1)
        self.assertEqual(log.payload.encode(), raw)
        self.assertEqual(log.account_id, self.account_a)
        self.assertEqual(log.event_type, "messages")
        self.assertEqual(log.state, "pending")
        self.assertFalse(self.env["wa.message"].search([]), "processing waits for the cron")
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers_before + 1)
        self.env["wa.webhook.log"]._cron_process()
        self.assertTrue(log.processed)
        self.assertEqual(self.env["wa.message"].search([]).body, "Hola")

    def test_unsigned_webhook_is_refused_and_logged(self):
        raw = self.encode(self.inbound_payload(self.account_a, {"type": "text"}))
        with self.assertLogs(LOGGER, "WARNING") as logged:
            response = self.post(raw, None)
        self.assertEqual(response.status_code, 403)
        self.assertIn("missing signature", logged.output[0])
        self.assertFalse(self.logs())

    def test_wrong_signature_is_refused_and_nothing_is_processed(self):
        raw = self.encode(self.inbound_payload(self.account_a, {"type": "text"}))
        for signature in (webhook.sign(raw, "not-the-secret"), "sha256=zz", "md5=abc",
                          webhook.sign(raw + b" ", SECRET_A)):
            with self.assertLogs(LOGGER, "WARNING"):
                response = self.post(raw, signature)
            self.assertEqual(response.status_code, 403, signature)
        self.assertFalse(self.logs())

    def test_a_secret_of_another_company_cannot_write_into_this_one(self):
        # Company B's app signs a payload naming company A's number: it is
        # B's to look at, and nothing reaches A's conversations.
        raw = self.encode(self.inbound_payload(self.account_a, {"type": "text"}))
        response = self.post(raw, webhook.sign(raw, SECRET_B))
        self.assertEqual(response.status_code, 200)
        log = self.logs()
        self.assertEqual(log.account_id, self.account_b)
        self.assertIn("Unknown phone_number_id", log.error_message)
        self.env["wa.webhook.log"]._cron_process()
        log.action_reprocess()
        self.assertFalse(self.env["wa.message"].search([]))
        self.assertIn("unknown phone_number_id 1001", log.error_message)

    def test_unknown_phone_number_id_is_kept_with_an_error(self):
        payload = self.inbound_payload(self.account_a, {"type": "text"})
        payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
        raw = self.encode(payload)
        response = self.post(raw, webhook.sign(raw, SECRET_A))
        self.assertEqual(response.status_code, 200)
        log = self.logs()
        self.assertEqual(log.state, "error")
        self.assertIn("999", log.error_message)
        self.env["wa.webhook.log"]._cron_process()
        self.assertFalse(self.env["wa.message"].search([]))

    def test_unknown_phone_number_id_and_unknown_secret_is_refused(self):
        payload = self.inbound_payload(self.account_a, {"type": "text"})
        payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
        raw = self.encode(payload)
        with self.assertLogs(LOGGER, "WARNING"):
            response = self.post(raw, webhook.sign(raw, "someone-else"))
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.logs())

    def test_duplicate_delivery_stores_the_message_once(self):
        raw = self.encode(self.inbound_payload(self.account_a, {"type": "text", "text": "Hola"}))
        for _attempt in range(3):
            self.assertEqual(self.post(raw, webhook.sign(raw, SECRET_A)).status_code, 200)
        self.env["wa.webhook.log"]._cron_process()
        self.assertEqual(len(self.logs()), 3)
        self.assertTrue(all(self.logs().mapped("processed")))
        self.assertEqual(self.env["wa.message"].search_count([]), 1)
        self.assertEqual(self.conversations(self.account_a).unread_count, 1)

    def test_out_of_order_statuses_never_move_a_message_backwards(self):
        message = self.outbound(self.account_a, "wamid.OUT1")
        for status in ("read", "delivered", "sent", "delivered"):
            raw = self.encode(self.status_payload(self.account_a, "wamid.OUT1", status))
            self.assertEqual(self.post(raw, webhook.sign(raw, SECRET_A)).status_code, 200)
            self.env["wa.webhook.log"]._cron_process()
        self.assertEqual(message.state, "read")

    def test_failed_status_over_http_keeps_metas_error(self):
        message = self.outbound(self.account_a, "wamid.OUT2")
        raw = self.encode(self.status_payload(self.account_a, "wamid.OUT2", "failed"))
        self.assertEqual(self.post(raw, webhook.sign(raw, SECRET_A)).status_code, 200)
        self.env["wa.webhook.log"]._cron_process()
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.error_code, 131026)
        self.assertTrue(message.error_message)

    def test_invalid_json_with_a_good_signature_is_kept_with_the_error(self):
        raw = b'{"object": "whatsapp_business_account", "entry": [ broken'
        response = self.post(raw, webhook.sign(raw, SECRET_A))
        # A secret that verifies proves the body is Meta's even when it cannot
        # be read: it is kept, byte for byte, for a person to look at.
        self.assertEqual(response.status_code, 200)
        log = self.logs()
        self.assertEqual(log.payload.encode(), raw)
        self.assertEqual(log.account_id, self.account_a)
        self.assertEqual(log.state, "error")
        log.action_reprocess()
        self.assertEqual(log.state, "error")
        self.assertIn("not valid JSON", log.error_message)
        self.assertEqual(log.attempts, 1)

    def test_simulator_delivers_every_message_type_signed(self):
        self.simulator.configure(webhook_url=self.base_url() + URL)
        kinds = ["text", "image", "document", "audio", "video", "sticker", "location",
                 "contacts", "interactive", "button", "reaction", "order", "unsupported"]
        for kind in kinds:
            self.simulator.inbound({"from": "5491155556666", "name": "Juana", "type": kind,
                                    "message_id": "wamid.OURS"})
        self.assertTrue(self.simulator.wait_idle(20))
        self.assertEqual(len(self.logs()), len(kinds))
        self.env["wa.webhook.log"]._cron_process()
        self.assertEqual(set(self.logs().mapped("state")), {"done"})
        messages = self.env["wa.message"].search([])
        self.assertEqual(len(messages), len(kinds))
        self.assertEqual(set(messages.mapped("message_type")), {
            "text", "image", "document", "audio", "video", "sticker", "location", "contact",
            "interactive", "reaction", "unknown"})
        self.assertEqual(len(self.conversations(self.account_a)), 1)

    def test_receive_reports_an_outcome_and_the_controller_maps_it(self):
        raw = self.encode(self.inbound_payload(self.account_a, {"type": "text"}))
        logs = self.env["wa.webhook.log"].sudo()
        stored = logs._receive(raw, webhook.sign(raw, SECRET_A))
        self.assertEqual(stored.outcome, webhook.Outcome.STORED)
        self.assertEqual(stored.log._raw_body(), raw)
        with self.assertLogs(LOGGER, "WARNING"):
            refused = logs._receive(raw, webhook.sign(raw, "wrong"))
        self.assertEqual(refused.outcome, webhook.Outcome.REFUSED)
        self.assertIn("bad signature", refused.reason)
        self.assertFalse(refused.log)
        with self.assertLogs(LOGGER, "WARNING"):
            large = logs._receive(b"{" * (MAX_BODY_BYTES + 1), None)
        self.assertEqual(large.outcome, webhook.Outcome.TOO_LARGE)
        self.assertEqual({outcome: HTTP_ANSWERS[outcome][0] for outcome in webhook.Outcome},
                         {webhook.Outcome.STORED: 200, webhook.Outcome.REFUSED: 403,
                          webhook.Outcome.TOO_LARGE: 413})

    def test_engine_previews_are_stored_in_the_company_language(self):
        self.env["res.lang"]._activate_lang("es_AR")
        self.company_a.partner_id.lang = "es_AR"
        self.receive(self.inbound_payload(self.account_a, {"type": "unsupported"}))
        self.company_a.partner_id.lang = "en_US"
        self.receive(self.inbound_payload(self.account_a, {"type": "unsupported"}))
        self.assertEqual(self.env["wa.message"].search([], order="id").mapped("body"),
                         ["Mensaje no compatible", "Unsupported message"])
