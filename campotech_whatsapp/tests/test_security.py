import json
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import config

from ..cloud.crypto import generate_key
from .common import KEY, SECRET_A, SECRET_B, TOKEN_A, WhatsAppMixin

MANAGER = "campotech_whatsapp.group_wa_manager"


@tagged("post_install", "-at_install")
class TestSecurity(WhatsAppMixin, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent_b = cls.company_user("agent_b", cls.company_b)
        cls.manager_b = cls.company_user("manager_b", cls.company_b, groups=MANAGER)
        cls.manager_a = cls.company_user("manager_a", cls.company_a, groups=MANAGER)

    def company_a_data(self):
        log = self.receive(self.inbound_payload(self.account_a, {"type": "text", "text": "Hola"}))
        self.env["wa.template"].create({"account_id": self.account_a.id, "name": "turno"})
        self.env["wa.outbound.queue"].create({"account_id": self.account_a.id, "phone": "5491155556666"})
        return log

    def test_company_b_sees_nothing_of_company_a(self):
        self.company_a_data()
        models = ("wa.conversation", "wa.message", "wa.template", "wa.template.variable",
                  "wa.template.button", "wa.outbound.queue", "wa.account")
        for model in models:
            self.assertTrue(self.env[model].search([("company_id", "=", self.company_a.id)]))
            for user in (self.agent_b, self.manager_b):
                self.assertFalse(
                    self.env(user=user)[model].search([("company_id", "=", self.company_a.id)]),
                    "%s sees %s of company A" % (user.login, model))
        conversation_a = self.conversations(self.account_a)
        with self.assertRaises(AccessError):
            conversation_a.with_user(self.agent_b).read(["customer_phone"])
        with self.assertRaises(AccessError):
            conversation_a.with_user(self.agent_b).write({"status": "spam"})
        self.assertFalse(self.env(user=self.manager_b)["wa.webhook.log"].search([]))
        self.assertTrue(self.env(user=self.manager_a)["wa.webhook.log"].search([]))

    def test_agents_cannot_read_webhook_logs(self):
        self.company_a_data()
        agent_a = new_test_user(self.env, "agent_a", groups="campotech_whatsapp.group_wa_user")
        with self.assertRaises(AccessError):
            self.env(user=agent_a)["wa.webhook.log"].search([])

    def test_secrets_are_stored_encrypted_and_never_read_back(self):
        self.env.cr.execute(
            "SELECT access_token_encrypted, app_secret_encrypted FROM wa_account WHERE id = %s",
            [self.account_a.id])
        token_column, secret_column = self.env.cr.fetchone()
        self.assertNotIn(TOKEN_A, token_column)
        self.assertNotIn(SECRET_A, secret_column)
        self.assertEqual(self.account_a._secret("access_token"), TOKEN_A)
        admin_view = self.account_a.read(["access_token", "app_secret", "access_token_set"])[0]
        self.assertTrue(admin_view["access_token_set"])
        self.assertNotIn(TOKEN_A, json.dumps(admin_view))
        exported = self.account_a.export_data(["access_token", "app_secret"])["datas"]
        self.assertNotIn(TOKEN_A, json.dumps(exported))
        self.assertNotIn(SECRET_A, json.dumps(exported))

    def test_non_administrators_cannot_touch_the_secret_columns(self):
        account = self.account_a.with_user(self.manager_a)
        for field in ("access_token_encrypted", "app_secret_encrypted", "access_token"):
            with self.assertRaises(AccessError):
                account.read([field])
        self.assertNotIn("access_token_encrypted", account.fields_get())

    def test_json_rpc_read_as_administrator_returns_no_secret(self):
        self.authenticate("admin", "admin")
        response = self.url_open("/web/dataset/call_kw/wa.account/read", data=json.dumps({
            "jsonrpc": "2.0", "method": "call", "id": 1, "params": {
                "model": "wa.account", "method": "read", "args": [[self.account_a.id]],
                "kwargs": {}}}), headers={"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 200)
        self.assertIn('"result"', response.text)
        self.assertNotIn(TOKEN_A, response.text)
        self.assertNotIn(SECRET_A, response.text)

    def test_setting_a_new_secret_replaces_it_and_the_mask_changes_nothing(self):
        self.account_a.write({"access_token": self.account_a.access_token})  # the mask
        self.assertEqual(self.account_a._secret("access_token"), TOKEN_A)
        self.account_a.write({"access_token": "EAAG-rotated"})
        self.assertEqual(self.account_a._secret("access_token"), "EAAG-rotated")
        self.account_a.write({"access_token": False})
        self.assertFalse(self.account_a.access_token_set)

    def test_saving_a_new_token_in_the_form_answers_with_the_mask(self):
        answer = self.account_a.web_save({"access_token": "EAAG-typed-in-the-form"},
                                         {"access_token": {}, "access_token_set": {}})
        self.assertNotIn("EAAG-typed-in-the-form", json.dumps(answer))
        self.assertTrue(answer[0]["access_token_set"])
        self.assertEqual(self.account_a._secret("access_token"), "EAAG-typed-in-the-form")

    def test_settings_never_keep_a_typed_secret_in_clear(self):
        settings = self.env["res.config.settings"].create({
            "wa_phone_number_id": "1001", "wa_access_token": "EAAG-from-settings",
            "wa_app_secret": "secret-from-settings"})
        answer = settings.web_read({"wa_access_token": {}, "wa_app_secret": {}})
        self.assertNotIn("from-settings", json.dumps(answer))
        settings.execute()
        self.env.flush_all()
        self.env.cr.execute("SELECT * FROM res_config_settings WHERE id = %s", [settings.id])
        self.assertNotIn("from-settings", json.dumps(self.env.cr.fetchall(), default=str))
        self.assertEqual(self.account_a._secret("access_token"), "EAAG-from-settings")
        self.assertEqual(self.account_a._secret("app_secret"), "secret-from-settings")

    def test_an_agent_cannot_move_a_message_into_another_company(self):
        self.company_a_data()
        agent_a = new_test_user(self.env, "agent_mover", groups="campotech_whatsapp.group_wa_user")
        conversation_b = self.env["wa.conversation"].create({
            "account_id": self.account_b.id, "wa_id": "5491100000000"})
        message = self.env["wa.message"].search([("company_id", "=", self.company_a.id)], limit=1)
        with self.assertRaises(AccessError):
            message.with_user(agent_a).write({"conversation_id": conversation_b.id})
        with self.assertRaises(AccessError):
            message.conversation_id.with_user(agent_a).write({"account_id": self.account_b.id})
        self.assertEqual(message.company_id, self.company_a)

    def test_rotating_the_key_keeps_every_secret_readable_with_the_new_key_alone(self):
        new_key = generate_key()
        with patch.dict(config.options, {"campotech_whatsapp_key": "%s,%s" % (new_key, KEY)}):
            self.env["wa.account"]._rotate_secrets()
        with patch.dict(config.options, {"campotech_whatsapp_key": new_key}):
            self.assertEqual(self.account_a._secret("access_token"), TOKEN_A)
            self.assertEqual(self.account_b._secret("app_secret"), SECRET_B)
        with self.assertRaises(UserError):
            self.account_a._secret("access_token")  # the old key alone no longer reads it
