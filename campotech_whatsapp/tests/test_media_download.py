import base64
import hashlib

from odoo.tests import TransactionCase, tagged

from ..cloud.client import sha256_matches
from .common import SECRET_B, TOKEN_A, WhatsAppMixin

PHOTO = b"\xff\xd8\xff\xe0" + b"caldera rota" * 200


@tagged("post_install", "-at_install")
class TestMediaDownload(WhatsAppMixin, TransactionCase):

    def receive_photo(self, content=PHOTO):
        self.receive(self.inbound_payload(self.account_a, {
            "type": "image", "caption": "Así quedó", "content_b64": base64.b64encode(content).decode(),
            "mime_type": "image/jpeg"}))
        return self.env["wa.message"].search([("message_type", "=", "image")])

    def test_inbound_image_is_stored_first_then_downloaded_into_an_attachment(self):
        message = self.receive_photo()
        self.assertEqual(message.media_state, "pending", "the message exists before its media")
        self.assertEqual(message.body, "Así quedó")
        self.env["wa.message"]._cron_download_media()
        self.assertEqual(message.media_state, "done")
        self.assertEqual(message.attachment_id.raw, PHOTO)
        self.assertEqual(message.attachment_id.mimetype, "image/jpeg")
        self.assertTrue(sha256_matches(message.attachment_id.raw, message.media_sha256))

    def test_meta_down_is_retried_later_and_the_error_kept(self):
        message = self.receive_photo()
        self.simulator.fault({"http_status": 503, "count": 1})
        self.env["wa.message"]._cron_download_media()
        self.assertEqual(message.media_state, "pending")
        self.assertEqual(message.media_attempts, 1)
        self.assertIn("503", message.media_error_message)
        self.assertTrue(message.media_next_attempt_at)
        message.media_next_attempt_at = False  # the retry time has come
        self.env["wa.message"]._cron_download_media()
        self.assertEqual(message.media_state, "done")

    def test_a_corrupted_download_is_refused_by_its_sha256(self):
        message = self.receive_photo()
        message.media_sha256 = hashlib.sha256(b"something else").hexdigest()
        self.env["wa.message"]._cron_download_media()
        self.assertFalse(message.attachment_id)
        self.assertEqual(message.media_state, "pending")
        self.assertIn("sha256", message.media_error_message.lower())

    def test_media_gone_at_meta_fails_for_good(self):
        message = self.receive_photo()
        self.simulator.fault({"code": 100, "http_status": 400, "count": 1})
        self.env["wa.message"]._cron_download_media()
        self.assertEqual(message.media_state, "failed")
        self.assertFalse(message.media_next_attempt_at)

    def test_an_account_without_token_fails_its_media_and_not_the_others(self):
        self.account_b.access_token = TOKEN_A  # one simulator serves both accounts here
        photo_a = self.receive_photo()
        self.receive(self.inbound_payload(self.account_b, {
            "type": "image", "content_b64": base64.b64encode(PHOTO).decode(),
            "mime_type": "image/jpeg"}), secret=SECRET_B)
        photo_b = self.env["wa.message"].search([("company_id", "=", self.company_b.id)])
        self.account_a.access_token = False
        self.env["wa.message"]._cron_download_media()
        self.assertEqual(photo_a.media_state, "failed")
        self.assertIn("access token", photo_a.media_error_message)
        self.assertEqual(photo_b.media_state, "done")
