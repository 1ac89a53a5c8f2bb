from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from .common import TOKEN_A, WhatsAppMixin


@tagged("post_install", "-at_install")
class TestAccount(WhatsAppMixin, TransactionCase):

    def test_test_connection_reports_the_number(self):
        action = self.account_a.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.account_a.display_phone_number,
                         self.simulator.config["display_phone_number"])

    def test_test_connection_reports_metas_error_without_the_token(self):
        self.account_a.access_token = "EAAG-wrong-token-value"
        action = self.account_a.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("190", action["params"]["message"])
        self.assertNotIn("EAAG-wrong-token-value", action["params"]["message"])

    def test_test_connection_when_meta_is_unreachable(self):
        self.account_a.graph_url = "http://127.0.0.1:9"  # nothing listens on the discard port
        action = self.account_a.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertNotIn(TOKEN_A, action["params"]["message"])

    def test_sync_templates_creates_and_updates_them(self):
        self.account_a.action_sync_templates()
        templates = self.account_a.template_ids
        self.assertIn("turno_confirmado", templates.mapped("name"))
        turno = templates.filtered(lambda t: t.name == "turno_confirmado")
        self.assertEqual(turno.status, "approved")
        self.assertIn("{{1}}", turno.body_preview)
        count = len(templates)
        self.account_a.action_sync_templates()
        self.assertEqual(len(self.account_a.template_ids), count, "a second sync creates nothing")

    def test_expired_api_version_is_refused(self):
        with self.assertRaises(ValidationError):
            self.account_a.api_version = "v18.0"

    def test_throughput_is_bounded_by_metas_limit(self):
        with self.assertRaises(ValidationError):
            self.account_a.throughput_mps = 5000

    def test_settings_create_the_company_account_with_encrypted_secrets(self):
        company = self.env["res.company"].create({"name": "CampoTech Rosario"})
        settings = self.env["res.config.settings"].with_company(company).create({
            "wa_phone_number_id": "3003", "wa_waba_id": "4004", "wa_app_id": "5005",
            "wa_access_token": "EAAG-rosario", "wa_app_secret": "rosario-secret"})
        settings.execute()
        account = company.wa_account_id
        self.assertEqual(account.phone_number_id, "3003")
        self.assertEqual(account.app_id, "5005")
        self.assertEqual(account._secret("access_token"), "EAAG-rosario")
        self.assertEqual(account._secret("app_secret"), "rosario-secret")
        again = self.env["res.config.settings"].with_company(company).create({})
        self.assertEqual(again.wa_phone_number_id, "3003")
        self.assertFalse(again.wa_access_token, "the token never comes back")
        self.assertTrue(again.wa_access_token_set)
        self.assertTrue(again.wa_webhook_url.endswith("/whatsapp/webhook"))

    def test_old_processed_logs_are_purged(self):
        log = self.receive(self.inbound_payload(self.account_a, {"type": "text"}))
        fresh = self.receive(self.inbound_payload(self.account_a, {"type": "text"}))
        self.env.cr.execute("UPDATE wa_webhook_log SET create_date = now() - interval '40 days' "
                            "WHERE id = %s", [log.id])
        self.env["wa.webhook.log"].invalidate_model(["create_date"])
        self.env["wa.webhook.log"]._gc_processed_logs()
        self.assertFalse(log.exists())
        self.assertTrue(fresh.exists())
