from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import WhatsAppMixin


@tagged("post_install", "-at_install")
class TestConsent(WhatsAppMixin, TransactionCase):

    def setUp(self):
        super().setUp()
        self.partner = self.env["res.partner"].create({
            "name": "Juana Pérez", "mobile": "+54 9 11 5555-6666", "company_id": self.company_a.id})

    def say(self, text):
        self.receive(self.inbound_payload(self.account_a, {"type": "text", "text": text}))

    def outbound_texts(self):
        return self.env["wa.message"].search([
            ("partner_id", "=", self.partner.id), ("direction", "=", "outbound")]).mapped("body")

    def test_stop_then_an_ordinary_message_leaves_the_partner_opted_out(self):
        self.say("¡Baja!")
        self.assertTrue(self.partner.wa_opt_out)
        log = self.partner.wa_consent_ids
        self.assertEqual(len(log), 1)
        self.assertEqual((log.action, log.source, log.body), ("opt_out", "whatsapp", "¡Baja!"))
        self.assertEqual(log.message_id.body, "¡Baja!")
        self.assertEqual(log.message_id.direction, "inbound")
        self.say("Hola, ¿mañana vienen a las 9?")
        self.assertTrue(self.partner.wa_opt_out, "an ordinary message never opts back in")
        self.assertEqual(len(self.partner.wa_consent_ids), 1)

    def test_a_second_stop_is_confirmed_only_once(self):
        self.say("STOP")
        self.say("no más")
        self.assertEqual(len(self.partner.wa_consent_ids), 1)
        confirmations = [body for body in self.outbound_texts() if body and "ALTA" in body]
        self.assertEqual(len(confirmations), 1, self.outbound_texts())

    def test_alta_opts_back_in_and_is_logged(self):
        self.say("Cancelar suscripción")
        self.say("alta")
        self.assertFalse(self.partner.wa_opt_out)
        log = self.env["wa.consent"].search([("partner_id", "=", self.partner.id)], order="id")
        self.assertEqual(log.mapped("action"), ["opt_out", "opt_in"])
        self.assertEqual(log.mapped("body"), ["Cancelar suscripción", "alta"])

    def test_a_sentence_with_a_stop_word_is_an_ordinary_message(self):
        self.say("quiero darme de baja del plan de mantenimiento")
        self.assertFalse(self.partner.wa_opt_out)
        self.assertFalse(self.partner.wa_consent_ids)

    def test_configured_words_replace_the_defaults(self):
        self.company_a.wa_stop_words = "basta"
        self.say("BAJA")
        self.assertFalse(self.partner.wa_opt_out)
        self.say("Basta.")
        self.assertTrue(self.partner.wa_opt_out)

    def test_a_manager_change_is_logged_and_only_a_manager_opts_in(self):
        self.partner.wa_opt_out = True
        self.assertEqual(self.partner.wa_consent_ids.source, "manager")
        self.assertEqual(self.partner.wa_consent_ids.user_id, self.env.user)
        agent = new_test_user(self.env, "wa_agent_consent", groups="campotech_whatsapp.group_wa_user")
        with self.assertRaises(UserError):
            self.partner.with_user(agent).wa_opt_out = False
        with self.assertRaises(UserError):
            self.partner.with_user(agent).action_wa_opt_in()
        self.partner.action_wa_opt_in()
        self.assertFalse(self.partner.wa_opt_out)
        self.assertEqual(len(self.partner.wa_consent_ids), 2)
