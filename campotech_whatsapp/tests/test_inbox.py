from datetime import timedelta

from odoo import fields
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
