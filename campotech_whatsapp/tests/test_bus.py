import json

from odoo.addons.bus.models.bus import channel_with_db, json_dump
from odoo.tests import TransactionCase, tagged

from ..cloud.simulator import payloads
from .common import SECRET_A, SECRET_B, TOKEN_A, TOKEN_B, WhatsAppMixin

NEW = "campotech_whatsapp/new-message"
STATUS = "campotech_whatsapp/status-update"
CONVERSATION = "campotech_whatsapp/conversation-update"
TYPING = "campotech_whatsapp/typing"

MANAGER = "campotech_whatsapp.group_wa_manager"


@tagged("post_install", "-at_install")
class TestBus(WhatsAppMixin, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent_a = cls.company_user("bus_agent_a", cls.company_a, name="Ana")
        cls.agent_b = cls.company_user("bus_agent_b", cls.company_b)
        cls.manager_b = cls.company_user("bus_manager_b", cls.company_b, groups=MANAGER)
        cls.both = cls.company_user("bus_both", cls.company_a | cls.company_b)
        cls.accountant_a = cls.company_user("bus_accountant_a", cls.company_a,
                                            groups="base.group_user")

    def setUp(self):
        super().setUp()
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.last_bus_id = self.env["bus.bus"].sudo().search([], order="id desc", limit=1).id or 0

    def events(self, user, event=None):
        """What ``user``'s browser receives once the transaction commits."""
        self.env.flush_all()
        self.env.cr.precommit.run()
        channel = json_dump(channel_with_db(self.env.cr.dbname, user.partner_id))
        rows = self.env["bus.bus"].sudo().search(
            [("id", ">", self.last_bus_id), ("channel", "=", channel)], order="id")
        messages = [json.loads(row.message) for row in rows]
        return [m for m in messages if event is None or m["type"] == event]

    def inbound_a(self, text="Se me rompió el aire"):
        self.receive(self.inbound_payload(self.account_a, {"type": "text", "text": text}))
        return self.conversations(self.account_a)

    def test_new_message_reaches_its_company_users_only(self):
        conversation = self.inbound_a()
        for user in (self.agent_a, self.both):
            events = self.events(user, NEW)
            self.assertEqual(len(events), 1, user.login)
            payload = events[0]["payload"]
            self.assertEqual(payload["conversation_id"], conversation.id)
            self.assertEqual(payload["message"]["body"], "Se me rompió el aire")
            self.assertEqual(payload["message"]["direction"], "inbound")
            self.assertEqual(payload["conversation"]["unread_count"], 1)
            self.assertEqual(payload["conversation"]["phone"], "+54 9 11 5555-6666")
        for user in (self.agent_b, self.manager_b, self.accountant_a):
            self.assertFalse(self.events(user), "%s received company A's events" % user.login)

    def test_company_b_events_never_reach_company_a(self):
        self.receive(self.inbound_payload(self.account_b, {"type": "text", "text": "Hola Córdoba"}),
                     secret=SECRET_B)
        self.assertEqual(len(self.events(self.agent_b, NEW)), 1)
        self.assertEqual(len(self.events(self.manager_b, NEW)), 1)
        self.assertEqual(len(self.events(self.both, NEW)), 1)
        self.assertFalse(self.events(self.agent_a))
        conversation_b = self.conversations(self.account_b)
        conversation_b.with_user(self.agent_b).wa_typing()
        self.assertFalse(self.events(self.agent_a))
        self.assertEqual(len(self.events(self.manager_b, TYPING)), 1)

    def test_a_new_message_rings_once_with_its_conversation(self):
        self.inbound_a()
        events = self.events(self.agent_a)
        self.assertEqual([e["type"] for e in events], [NEW],
                         "the conversation's new preview travels inside the new-message event")

    def test_status_update_carries_the_new_state_and_meta_reason(self):
        message = self.outbound(self.account_a, "wamid.BUS1")
        self.events(self.agent_a)  # the creation is pushed: start after it
        self.last_bus_id = self.env["bus.bus"].sudo().search([], order="id desc", limit=1).id
        self.receive(self.status_payload(self.account_a, "wamid.BUS1", "delivered"))
        events = self.events(self.agent_a, STATUS)
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["payload"]["message_id"], message.id)
        self.assertEqual(events[0]["payload"]["state"], "delivered")
        self.receive(self.status_payload(self.account_a, "wamid.BUS1", "failed", errors=[
            payloads.status_error(131047, "More than 24 hours have passed")]))
        failed = self.events(self.agent_a, STATUS)[-1]["payload"]["message"]
        self.assertEqual(failed["state"], "failed")
        self.assertEqual(failed["error_code"], 131047)
        self.assertIn("24 hours", failed["error_message"])
        self.assertIn("template", failed["error_hint"])
        self.assertFalse(self.events(self.agent_b))

    def test_created_and_sent_in_one_transaction_is_one_event_with_the_final_state(self):
        message = self.outbound(self.account_a, "wamid.BUS2", state="pending")
        message.write({"state": "sent"})
        events = self.events(self.agent_a)
        self.assertEqual([e["type"] for e in events], [NEW])
        self.assertEqual(events[0]["payload"]["message"]["state"], "sent")

    def test_assign_close_and_read_push_conversation_updates(self):
        conversation = self.inbound_a()
        self.events(self.agent_a)
        self.last_bus_id = self.env["bus.bus"].sudo().search([], order="id desc", limit=1).id
        conversation.with_user(self.agent_a).write({"user_id": self.agent_a.id})
        update = self.events(self.agent_a, CONVERSATION)
        self.assertEqual(len(update), 1)
        self.assertEqual(update[0]["payload"]["conversation"]["user"],
                         {"id": self.agent_a.id, "name": "Ana"})
        conversation.with_user(self.agent_a).wa_read()
        conversation.with_user(self.agent_a).action_close()
        last = self.events(self.agent_a, CONVERSATION)[-1]["payload"]["conversation"]
        self.assertEqual(last["status"], "closed")
        self.assertEqual(last["unread_count"], 0)
        self.assertFalse(self.events(self.agent_b))

    def test_fields_the_screen_does_not_show_push_nothing(self):
        conversation = self.inbound_a()
        self.events(self.agent_a)
        self.last_bus_id = self.env["bus.bus"].sudo().search([], order="id desc", limit=1).id
        conversation.sudo().write({"typing_sent_at": "2026-01-01 10:00:00"})
        self.assertFalse(self.events(self.agent_a))

    def test_typing_names_the_agent_to_the_other_agents(self):
        conversation = self.inbound_a()
        conversation.with_user(self.agent_a).wa_typing()
        events = self.events(self.both, TYPING)
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["payload"], {
            "conversation_id": conversation.id, "user_id": self.agent_a.id, "user_name": "Ana"})

    def test_payloads_carry_no_secret_and_no_raw_payload(self):
        conversation = self.inbound_a()
        self.receive(self.inbound_payload(self.account_a, {
            "type": "location", "latitude": -34.6, "longitude": -58.38,
            "location_name": "Taller", "address": "Av. Corrientes 1234"}))
        conversation.with_user(self.agent_a).wa_typing()
        dumped = json.dumps(self.events(self.agent_a))
        for secret in (TOKEN_A, SECRET_A, TOKEN_B, SECRET_B, "access_token", "app_secret"):
            self.assertNotIn(secret, dumped)
        self.assertNotIn('"metadata"', dumped)
        location = [e for e in self.events(self.agent_a, NEW)
                    if e["payload"]["message"]["type"] == "location"][0]["payload"]["message"]
        self.assertEqual(location["location"]["name"], "Taller")
        self.assertIn("openstreetmap.org", location["location"]["map_url"])

    def test_a_reaction_is_not_unread(self):
        ours = self.outbound(self.account_a, "wamid.OURS")
        conversation = ours.conversation_id
        self.receive(self.inbound_payload(self.account_a, {"message": {
            "from": "5491155556666", "type": "reaction",
            "reaction": {"message_id": "wamid.OURS", "emoji": "👍"}}}))
        self.assertEqual(conversation.unread_count, 0)
        reaction = self.events(self.agent_a, NEW)[-1]["payload"]["message"]
        self.assertEqual(reaction["type"], "reaction")
        self.assertEqual(reaction["reply_to"]["id"], ours.id)
