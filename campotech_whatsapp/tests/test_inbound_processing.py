from datetime import timedelta

from odoo.tests import tagged

from ..cloud import webhook
from .common import SECRET_A, WhatsAppCase


@tagged("post_install", "-at_install")
class TestInboundProcessing(WhatsAppCase):

    def test_argentine_customer_typed_with_15_is_matched_by_the_549_wa_id(self):
        partner = self.env["res.partner"].create({
            "name": "Juana Pérez", "mobile": "011 15 5555-6666",
            "country_id": self.env.ref("base.ar").id})
        self.receive(self.inbound_payload(
            self.account_a, {"from": "5491155556666", "name": "Juani", "type": "text"}))
        conversation = self.conversations(self.account_a)
        self.assertEqual(conversation.partner_id, partner)
        self.assertEqual(partner.wa_id, "5491155556666", "Meta's exact wa_id is kept")
        self.assertEqual(conversation.customer_phone, "+5491155556666")
        self.assertEqual(conversation.customer_name, "Juani")
        self.assertWAMessage([("conversation_id", "=", conversation.id)], direction="inbound",
                             message_type="text", state="delivered", partner_id=partner)

    def test_new_message_is_announced_to_the_company_users(self):
        self.receive(self.inbound_payload(self.account_a, {"type": "text", "text": "hola"}))
        conversation = self.conversations(self.account_a)
        admin = self.env.ref("base.user_admin").partner_id  # a WhatsApp manager of company A
        self.assertBusNotified("campotech_whatsapp/new-message", {
            "conversation_id": conversation.id,
            "message": {"body": "hola", "direction": "inbound"},
            "conversation": {"unread_count": 1}}, partner=admin)
        with self.assertRaises(AssertionError):
            self.assertBusNotified("campotech_whatsapp/new-message", {"message": {"body": "chau"}})

    def test_mexican_521_and_52_forms_are_one_customer(self):
        partner = self.env["res.partner"].create({"name": "Luis", "mobile": "+52 55 1234 5678"})
        self.receive(self.inbound_payload(self.account_a, {"from": "5215512345678", "type": "text"}))
        self.receive(self.inbound_payload(self.account_a, {"from": "525512345678", "type": "text"}))
        conversation = self.conversations(self.account_a)
        self.assertEqual(len(conversation), 1)
        self.assertEqual(conversation.partner_id, partner)
        self.assertEqual(conversation.unread_count, 2)

    def test_unknown_customer_becomes_one_partner_and_one_conversation(self):
        for wa_id in ("5493515550000", "543515550000", "5493515550000"):
            self.receive(self.inbound_payload(
                self.account_a, {"from": wa_id, "name": "Carlos", "type": "text"}))
        conversation = self.conversations(self.account_a)
        self.assertEqual(len(conversation), 1)
        partners = self.env["res.partner"].search([("wa_customer_key", "=", "543515550000")])
        self.assertEqual(len(partners), 1)
        self.assertEqual(partners.name, "Carlos")
        self.assertEqual(partners.company_id, self.company_a)
        self.assertEqual(conversation.partner_id, partners)
        self.assertEqual(len(conversation.message_ids), 3)

    def test_username_only_customer_has_no_phone(self):
        self.receive(self.inbound_payload(self.account_a, {
            "username_only": True, "user_id": "AR.13491208655302741918", "from": None,
            "name": "tecnico_fan", "type": "text", "text": "hola"}))
        conversation = self.conversations(self.account_a)
        self.assertEqual(conversation.wa_user_id, "AR.13491208655302741918")
        self.assertFalse(conversation.wa_id)
        self.assertFalse(conversation.customer_phone)
        self.assertEqual(conversation.partner_id.wa_user_id, "AR.13491208655302741918")
        self.receive(self.inbound_payload(self.account_a, {
            "username_only": True, "user_id": "AR.13491208655302741918", "from": None,
            "type": "text", "text": "sigo acá"}))
        self.assertEqual(len(self.conversations(self.account_a).message_ids), 2)

    def test_preview_unread_and_window_follow_the_latest_message(self):
        self.receive(self.inbound_payload(self.account_a, {"type": "text", "text": "Primero"},
                                          timestamp=1_800_000_000))
        self.receive(self.inbound_payload(self.account_a, {"type": "text", "text": "Viejo"},
                                          timestamp=1_799_990_000))
        conversation = self.conversations(self.account_a)
        self.assertEqual(conversation.last_message_preview, "Primero")
        self.assertEqual(conversation.unread_count, 2)
        self.assertEqual(conversation.window_expires_at - conversation.last_inbound_at, timedelta(hours=24))
        conversation.action_mark_read()
        self.assertEqual(conversation.unread_count, 0)

    def test_reply_context_and_reaction_point_at_our_message(self):
        ours = self.outbound(self.account_a, "wamid.OURS")
        self.receive(self.inbound_payload(self.account_a, {"message": {
            "from": "5491155556666", "type": "text", "text": {"body": "¿A qué hora?"},
            "context": {"from": "5491140000000", "id": "wamid.OURS"}}}))
        self.receive(self.inbound_payload(self.account_a, {"message": {
            "from": "5491155556666", "type": "reaction",
            "reaction": {"message_id": "wamid.OURS", "emoji": "👍"}}}))
        replies = self.env["wa.message"].search([("reply_to_id", "=", ours.id)])
        self.assertEqual(sorted(replies.mapped("message_type")), ["reaction", "text"])
        self.assertEqual(ours.conversation_id.customer_key, replies.conversation_id.customer_key)

    def test_closed_conversation_reopens_and_archived_starts_a_new_one(self):
        self.receive(self.inbound_payload(self.account_a, {"type": "text"}))
        first = self.conversations(self.account_a)
        first.action_close()
        self.receive(self.inbound_payload(self.account_a, {"type": "text"}))
        self.assertEqual(first.status, "open")
        self.assertEqual(len(self.conversations(self.account_a)), 1)
        first.action_archive_conversation()
        self.receive(self.inbound_payload(self.account_a, {"type": "text"}))
        self.assertEqual(len(self.conversations(self.account_a)), 2)
        self.assertEqual(self.conversations(self.account_a).partner_id, first.partner_id)

    def test_customer_changing_number_is_followed(self):
        self.receive(self.inbound_payload(self.account_a, {"from": "5491155556666", "type": "text"}))
        conversation = self.conversations(self.account_a)
        self.receive(self.inbound_payload(self.account_a, {
            "from": "5491155556666", "type": "system", "new_wa_id": "5491177778888"}))
        self.assertEqual(conversation.wa_id, "5491177778888")
        self.assertEqual(conversation.partner_id.wa_id, "5491177778888")

    def test_failed_status_keeps_metas_code_and_text(self):
        message = self.outbound(self.account_a, "wamid.FAIL")
        self.receive(self.status_payload(self.account_a, "wamid.FAIL", "failed", errors=[{
            "code": 131026, "title": "Message undeliverable",
            "message": "Message undeliverable",
            "error_data": {"details": "Receiver is incapable of receiving this message"}}]))
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.error_code, 131026)
        self.assertIn("incapable", message.error_message)
        self.receive(self.status_payload(self.account_a, "wamid.FAIL", "delivered"))
        self.assertEqual(message.state, "failed", "nothing overwrites failed")

    def test_each_status_applies_once(self):
        message = self.outbound(self.account_a, "wamid.ONCE")
        self.receive(self.status_payload(self.account_a, "wamid.ONCE", "delivered", timestamp=1_800_000_100))
        first_date = message.state_date
        self.receive(self.status_payload(self.account_a, "wamid.ONCE", "delivered", timestamp=1_800_000_900))
        self.assertEqual(message.state_date, first_date)

    def test_status_overtaking_its_wamid_is_applied_on_a_later_pass(self):
        log = self.receive(self.status_payload(self.account_a, "wamid.LATE", "delivered"))
        self.assertEqual(log.state, "error", "kept for another pass, not marked done")
        self.assertIn("wamid.LATE", log.error_message)
        self.assertTrue(log.next_attempt_at)
        message = self.outbound(self.account_a, "wamid.LATE")  # the sending transaction commits
        log.next_attempt_at = "2000-01-01 00:00:00"
        self.env["wa.webhook.log"]._cron_process()
        self.assertEqual(message.state, "delivered")
        self.assertEqual(log.state, "done")

    def test_status_for_a_message_never_sent_from_here_is_given_up_with_a_note(self):
        log = self.receive(self.status_payload(self.account_a, "wamid.NOBODY", "read"))
        for _pass in range(3):
            log.next_attempt_at = "2000-01-01 00:00:00"
            self.env["wa.webhook.log"]._cron_process()
        self.assertEqual(log.state, "done")
        self.assertIn("wamid.NOBODY", log.error_message)

    def test_username_customer_who_later_shows_a_number_stays_one_customer(self):
        user_id = "AR.13491208655302741918"
        self.receive(self.inbound_payload(self.account_a, {
            "username_only": True, "user_id": user_id, "from": None, "type": "text"}))
        self.receive(self.inbound_payload(self.account_a, {
            "from": "5491155556666", "user_id": user_id, "type": "text"}))
        conversation = self.conversations(self.account_a)
        self.assertEqual(len(conversation), 1)
        self.assertEqual(conversation.wa_id, "5491155556666")
        self.assertEqual(len(self.env["res.partner"].search([("wa_user_id", "=", user_id)])), 1)

    def test_partner_typed_as_a_bare_national_number_is_matched(self):
        partner = self.env["res.partner"].create({
            "name": "Marta", "mobile": "3515550000", "country_id": self.env.ref("base.ar").id})
        self.receive(self.inbound_payload(self.account_a, {"from": "5493515550000", "type": "text"}))
        self.assertEqual(self.conversations(self.account_a).partner_id, partner)

    def test_spam_is_stored_without_counting_as_unread(self):
        self.receive(self.inbound_payload(self.account_a, {"type": "text"}))
        conversation = self.conversations(self.account_a)
        conversation.action_mark_read()
        conversation.action_mark_spam()
        self.receive(self.inbound_payload(self.account_a, {"type": "text", "text": "compre ya"}))
        self.assertEqual(conversation.unread_count, 0)
        self.assertEqual(len(conversation.message_ids), 2)

    def test_template_status_update_is_applied(self):
        template = self.env["wa.template"].create({
            "account_id": self.account_a.id, "name": "turno_confirmado", "language": "es_AR",
            "meta_template_id": "778899", "status": "pending"})
        payload = {"object": "whatsapp_business_account", "entry": [{"id": "2001", "time": 1_800_000_000,
                   "changes": [{"field": "message_template_status_update", "value": {
                       "event": "REJECTED", "message_template_id": 778899,
                       "message_template_name": "turno_confirmado",
                       "message_template_language": "es_AR", "reason": "INVALID_FORMAT"}}]}]}
        self.receive(payload)
        self.assertEqual(template.status, "rejected")
        self.assertEqual(template.rejection_reason, "INVALID_FORMAT")

    def test_processing_error_keeps_the_payload_for_a_retry(self):
        raw = b'{"object":"whatsapp_business_account","entry":[{"id":"2001","changes":'
        receipt = self.env["wa.webhook.log"].sudo()._receive(raw, webhook.sign(raw, SECRET_A))
        self.assertEqual(receipt.outcome, webhook.Outcome.STORED)
        log = receipt.log
        self.assertEqual(log.account_id, self.account_a, "the secret that verifies names the account")
        log._process_safely()
        self.assertEqual(log.state, "error")
        self.assertEqual(log.payload.encode(), raw)
        log.action_reprocess()
        self.assertEqual(log.attempts, 1)

    def two_account_payload(self):
        payload = self.inbound_payload(self.account_a, {"from": "5491155556666", "type": "text"})
        other = self.inbound_payload(self.account_b, {"from": "5493515550000", "type": "text"})
        payload["entry"] += other["entry"]
        return payload

    def test_one_app_serving_two_companies_routes_each_entry_to_its_account(self):
        self.account_b.app_secret = SECRET_A  # both numbers belong to the same Meta app
        self.receive(self.two_account_payload())
        self.assertEqual(len(self.conversations(self.account_a)), 1)
        self.assertEqual(len(self.conversations(self.account_b)), 1)
        self.assertEqual(self.conversations(self.account_b).company_id, self.company_b)

    def test_an_apps_secret_does_not_speak_for_another_apps_number(self):
        log = self.receive(self.two_account_payload())
        self.assertEqual(len(self.conversations(self.account_a)), 1)
        self.assertFalse(self.conversations(self.account_b))
        self.assertIn("unknown phone_number_id 1002", log.error_message)
