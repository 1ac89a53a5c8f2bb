from datetime import timedelta

import json

from odoo import fields
from odoo.addons.bus.models.bus import channel_with_db, json_dump
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from .outbound_common import OutboundMixin


@tagged("post_install", "-at_install")
class TestInbox(OutboundMixin, TransactionCase):
    """What the inbox, the form panels and the systray ask the server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = cls.company_user("inbox_agent", cls.company_a, name="Ana")

    def setUp(self):
        super().setUp()
        self.conversation = self.customer_writes(text="Se rompió el termotanque")
        self.Conversation = self.env(user=self.agent)["wa.conversation"]

    def test_tabs_and_search(self):
        other = self.customer_writes(number="5493515550000", text="¿Hacen instalaciones?")
        other.action_close()
        data = self.Conversation.get_inbox_data()
        self.assertEqual({c["id"] for c in data["conversations"]}, {self.conversation.id, other.id})
        self.assertEqual([c["id"] for c in self.Conversation.get_inbox_data("open")["conversations"]],
                         [self.conversation.id])
        self.assertEqual([c["id"] for c in self.Conversation.get_inbox_data("closed")["conversations"]],
                         [other.id])
        self.assertFalse(self.Conversation.get_inbox_data("mine")["conversations"])
        self.conversation.with_user(self.agent).wa_assign(self.agent.id)
        mine = self.Conversation.get_inbox_data("mine")
        self.assertEqual([c["id"] for c in mine["conversations"]], [self.conversation.id])
        self.assertEqual(mine["counts"]["mine"], 1)
        by_text = self.Conversation.get_inbox_data(search="termotanque")["conversations"]
        self.assertEqual([c["id"] for c in by_text], [self.conversation.id])
        by_phone = self.Conversation.get_inbox_data(search="351 555")["conversations"]
        self.assertEqual([c["id"] for c in by_phone], [other.id])

    def test_summary_is_in_words_and_formatted(self):
        summary = self.conversation.with_user(self.agent).wa_summary()[0]
        self.assertEqual(summary["phone"], "+54 9 11 5555-6666")
        self.assertEqual(summary["status_label"], "Open")
        self.assertEqual(summary["unread_count"], 1)
        self.assertTrue(summary["window_open"])
        self.assertEqual(summary["last_message_preview"], "Se rompió el termotanque")

    def test_messages_page_oldest_first_and_catch_up_after(self):
        for index in range(5):
            self.conversation.send_text("Mensaje %s" % index)
        conversation = self.conversation.with_user(self.agent)
        page = conversation.wa_get_messages(limit=3)
        self.assertTrue(page["has_more"])
        self.assertEqual([m["body"] for m in page["messages"]], ["Mensaje 2", "Mensaje 3", "Mensaje 4"])
        older = conversation.wa_get_messages(before_id=page["messages"][0]["id"], limit=3)
        self.assertEqual([m["body"] for m in older["messages"]],
                         ["Se rompió el termotanque", "Mensaje 0", "Mensaje 1"])
        self.assertFalse(older["has_more"])
        after = conversation.wa_get_messages(after_id=page["messages"][-1]["id"])
        self.assertEqual(after["messages"], [])
        self.conversation.send_text("Nuevo")
        after = conversation.wa_get_messages(after_id=page["messages"][-1]["id"])
        self.assertEqual([m["body"] for m in after["messages"]], ["Nuevo"])
        self.assertEqual(after["messages"][0]["state"], "pending")

    def test_opening_marks_read_here_and_at_meta(self):
        wamid = self.conversation.message_ids.wamid
        self.conversation.with_user(self.agent).wa_read()
        self.assertEqual(self.conversation.unread_count, 0)
        self.drain()
        reads = self.simulator.state()["reads"]
        self.assertEqual([(r["message_id"], r["typing"]) for r in reads], [(wamid, False)])
        self.conversation.with_user(self.agent).wa_read()
        self.drain()
        self.assertEqual(len(self.simulator.state()["reads"]), 1,
                         "a conversation already read sends no second receipt")

    def test_typing_reaches_meta_at_most_every_25_seconds(self):
        conversation = self.conversation.with_user(self.agent)
        self.assertTrue(conversation.wa_typing())
        self.assertFalse(conversation.wa_typing(), "again within 25 s: only the other agents see it")
        self.drain()
        typing = [r for r in self.simulator.state()["reads"] if r["typing"]]
        self.assertEqual(len(typing), 1)
        self.conversation.typing_sent_at = fields.Datetime.now() - timedelta(seconds=26)
        self.assertTrue(conversation.wa_typing())

    def test_a_message_sent_from_a_job_keeps_it_and_is_logged_there(self):
        partner = self.conversation.partner_id
        project = self.env["project.project"].create({"name": "Servicio técnico"})
        task = self.env["project.task"].create({
            "name": "Cambiar termotanque", "project_id": project.id, "partner_id": partner.id})
        action = task.action_open_wa_chat()
        self.assertEqual(action["tag"], "campotech_whatsapp.chat")
        self.assertEqual(action["params"], {"conversation_id": self.conversation.id,
                                            "res_model": "project.task", "res_id": task.id})
        message_id = self.conversation.with_context(
            wa_res_model="project.task", wa_res_id=task.id).send_text("Llegamos a las 10")
        message = self.env["wa.message"].browse(message_id)
        self.assertEqual((message.res_model, message.res_id), ("project.task", task.id))
        self.assertEqual(task.wa_message_count, 1)
        logged = task.message_ids.filtered(lambda m: "Llegamos a las 10" in (m.body or ""))
        self.assertEqual(len(logged), 1)

    def test_the_job_button_counts_the_customers_whole_chat_and_its_unread(self):
        partner = self.conversation.partner_id
        project = self.env["project.project"].create({"name": "Servicio técnico"})
        task = self.env["project.task"].create({
            "name": "Revisar split", "project_id": project.id, "partner_id": partner.id})
        chat = self.env["wa.message"].search_count([("conversation_id", "=", self.conversation.id)])
        self.conversation.send_text("Mañana pasamos")
        task.invalidate_recordset()
        self.assertEqual(task.wa_chat_message_count, chat + 1,
                         "the button counts the customer's chat, not only what this job sent")
        self.assertEqual(task.wa_message_count, 0)
        self.conversation.unread_count = 3
        task.invalidate_recordset()
        self.assertEqual(task.wa_unread_count, 3)

    def test_contact_panel_lists_open_jobs(self):
        partner = self.conversation.partner_id
        project = self.env["project.project"].create({"name": "Servicio técnico"})
        self.env["project.task"].create({"name": "Visita", "project_id": project.id,
                                         "partner_id": partner.id})
        self.conversation.with_user(self.agent).wa_save_note("Cliente frecuente")
        panel = self.conversation.with_user(self.agent).wa_contact_panel()
        self.assertEqual(panel["partner"]["id"], partner.id)
        self.assertEqual(panel["note"], "Cliente frecuente")
        self.assertEqual([t["name"] for t in panel["tasks"]], ["Visita"])
        self.assertEqual(panel["invoices"], [])

    def test_unknown_number_becomes_a_contact_from_the_panel(self):
        self.conversation.partner_id = False
        summary = self.conversation.with_user(self.agent).wa_link_partner()[0]
        self.assertTrue(summary["partner"])
        self.assertEqual(self.conversation.partner_id.wa_id, self.conversation.wa_id)

    def test_systray_counts_unread_for_me_or_nobody(self):
        self.assertEqual(self.Conversation.get_unread_counter(), 1)
        other = new_test_user(self.env, "inbox_other", groups="campotech_whatsapp.group_wa_user")
        self.conversation.user_id = other
        self.assertEqual(self.Conversation.get_unread_counter(), 0)

    def test_an_unknown_number_is_linked_to_an_existing_contact(self):
        """The dispatcher says who writes: the number now finds that contact only."""
        created = self.conversation.partner_id  # made from the first message
        key = self.conversation.customer_key
        self.assertEqual(created.wa_customer_key, key)
        known = self.env["res.partner"].create({"name": "Juana Pérez", "email": "juana@example.com"})
        summary = self.conversation.with_user(self.agent).wa_link_partner(known.id)[0]
        self.assertEqual(summary["partner"], {"id": known.id, "name": "Juana Pérez", "image": False})
        self.assertEqual(summary["name"], "Juana Pérez")
        self.assertEqual(self.conversation.partner_id, known)
        self.assertEqual(known.wa_customer_key, key)
        self.assertEqual(known.wa_id, self.conversation.wa_id)
        self.assertNotEqual(created.wa_customer_key, key, "the contact made from the number let it go")
        self.assertEqual(self.env["res.partner"].search([("wa_customer_key", "=", key)]), known)
        Partner = self.env["res.partner"]
        self.assertEqual(Partner._wa_find_or_create(self.account_a, self.conversation.wa_id), known)
        self.assertEqual(self.env["wa.conversation"]._for_recipient(partner=known), self.conversation)
        self.customer_writes(text="Soy Juana, ¿a qué hora vienen?")
        self.assertEqual(self.conversation.partner_id, known, "the next message keeps the link")

    def test_a_contact_with_another_number_keeps_it_and_follows_this_one(self):
        known = self.env["res.partner"].create({"name": "Juana Pérez", "mobile": "+54 9 351 555-0000"})
        self.conversation.with_user(self.agent).wa_link_partner(known.id)
        self.assertEqual(known.mobile, "+54 9 351 555-0000")
        self.assertEqual(known.wa_customer_key, self.conversation.customer_key)

    def test_the_panel_offers_the_company_whatsapp_users_and_pushes_the_handover(self):
        other = self.company_user("inbox_beto", self.company_a, name="Beto")
        foreign = self.company_user("inbox_carla", self.company_b, name="Carla")
        accountant = self.company_user("inbox_dora", self.company_a, groups="base.group_user")
        conversation = self.conversation.with_user(self.agent)
        offered = {u["id"] for u in conversation.wa_assignable_users()}
        self.assertIn(self.agent.id, offered)
        self.assertIn(other.id, offered)
        self.assertNotIn(foreign.id, offered)
        self.assertNotIn(accountant.id, offered)
        self.env.flush_all()
        self.env.cr.precommit.run()
        last = self.env["bus.bus"].sudo().search([], order="id desc", limit=1).id or 0
        summary = conversation.wa_assign(other.id)[0]
        self.assertEqual(summary["user"], {"id": other.id, "name": "Beto"})
        self.env.flush_all()
        self.env.cr.precommit.run()
        channel = json_dump(channel_with_db(self.env.cr.dbname, other.partner_id))
        pushed = [json.loads(row.message) for row in self.env["bus.bus"].sudo().search(
            [("id", ">", last), ("channel", "=", channel)])]
        updates = [m["payload"]["conversation"] for m in pushed
                   if m["type"] == "campotech_whatsapp/conversation-update"]
        self.assertEqual([u["user"]["id"] for u in updates], [other.id])
        with self.assertRaises(UserError):
            conversation.wa_assign(foreign.id)
        with self.assertRaises(UserError):
            conversation.wa_assign(accountant.id)
        self.assertEqual(self.conversation.user_id, other)
