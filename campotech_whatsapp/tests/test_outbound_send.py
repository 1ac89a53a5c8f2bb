from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import WhatsAppCase
from .outbound_common import CUSTOMER, OutboundMixin


@tagged("post_install", "-at_install")
class TestOutboundSend(OutboundMixin, WhatsAppCase):

    def setUp(self):
        super().setUp()
        self.conversation = self.customer_writes()
        self.inbound = self.conversation.message_ids.filtered(lambda m: m.direction == "inbound")

    def test_send_text_returns_at_once_and_the_queue_sends_it_once(self):
        message_id = self.conversation.send_text("Vamos mañana a las 9")
        message = self.env["wa.message"].browse(message_id)
        self.assertEqual((message.direction, message.state, message.message_type),
                         ("outbound", "pending", "text"))
        item = message.queue_item_ids
        self.assertEqual(item.state, "pending", "queued in the same transaction")
        self.assertFalse(self.sent(), "nothing reaches Meta before the queue runs")
        self.assertEqual(self.drain(), 1)
        sent = self.sent()
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["body"]["text"]["body"], "Vamos mañana a las 9")
        self.assertEqual(sent[0]["to"], CUSTOMER)
        self.assertEqual(item.state, "done")
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.wamid, sent[0]["wamid"])
        self.assertEqual(self.drain(), 0, "a done item is never sent again")
        self.assertEqual(len(self.sent()), 1)
        self.assertGraphCalls([{"to": CUSTOMER, "type": "text", "wamid": message.wamid,
                                "body": {"type": "text", "text": {"body": "Vamos mañana a las 9"}}}])
        self.assertWAMessage(message, state="sent", direction="outbound", wamid=sent[0]["wamid"])

    def test_reply_context_quotes_the_customer_message(self):
        self.conversation.send_text("Sí, a las 9", reply_to_id=self.inbound.id)
        self.drain()
        body = self.sent()[0]["body"]
        self.assertEqual(body["context"], {"message_id": self.inbound.wamid})
        self.assertGraphCalls([{"body": {"context": {"message_id": self.inbound.wamid}}}])

    def test_text_over_4096_is_refused_with_the_engine_message(self):
        with self.assertRaisesRegex(UserError, "4097 characters; WhatsApp allows at most 4096"):
            self.conversation.send_text("x" * 4097)
        self.assertFalse(self.queue_items())

    def test_four_buttons_are_refused(self):
        with self.assertRaisesRegex(UserError, "4 given; WhatsApp allows at most 3"):
            self.conversation.send_interactive(
                "¿Cuándo?", [{"id": str(i), "title": "Opción %s" % i} for i in range(4)])

    def test_reply_buttons_and_list(self):
        self.conversation.send_interactive("¿Confirmás la visita?",
                                           [{"id": "si", "title": "Sí"}, ("no", "No")])
        self.conversation.send_interactive(
            "Elegí un horario", False, button_label="Horarios",
            sections=[{"title": "Martes", "rows": [{"id": "m9", "title": "9:00"},
                                                   {"id": "m14", "title": "14:00",
                                                    "description": "Después de almorzar"}]}])
        self.drain()
        buttons, listing = [m["body"]["interactive"] for m in self.sent()]
        self.assertEqual(buttons["type"], "button")
        self.assertEqual([b["reply"]["id"] for b in buttons["action"]["buttons"]], ["si", "no"])
        self.assertEqual(listing["type"], "list")
        self.assertEqual(listing["action"]["button"], "Horarios")
        self.assertEqual(len(listing["action"]["sections"][0]["rows"]), 2)

    def test_location_contacts_and_reaction(self):
        self.conversation.send_location(-34.6037, -58.3816, name="Oficina",
                                        address="Av. Corrientes 1234, CABA")
        tech = self.env["res.partner"].create({"name": "Martín Gómez",
                                               "mobile": "+54 9 11 4444-3333",
                                               "email": "martin@example.com"})
        self.conversation.send_contacts(tech.ids)
        reaction_id = self.conversation.send_reaction(self.inbound.id, "👍")
        self.drain()
        location, contacts, reaction = [m["body"] for m in self.sent()]
        self.assertEqual(location["location"]["latitude"], -34.6037)
        self.assertEqual(location["location"]["name"], "Oficina")
        card = contacts["contacts"][0]
        self.assertEqual(card["name"]["formatted_name"], "Martín Gómez")
        self.assertEqual(card["phones"][0]["phone"], "+5491144443333")
        self.assertEqual(reaction["reaction"], {"message_id": self.inbound.wamid, "emoji": "👍"})
        self.assertEqual(self.env["wa.message"].browse(reaction_id).reply_to_id, self.inbound)
        # An empty emoji takes the reaction back.
        self.conversation.send_reaction(self.inbound.id, "")
        self.drain()
        self.assertEqual(self.sent()[-1]["body"]["reaction"]["emoji"], "")

    def test_read_receipt_with_typing_creates_no_message(self):
        before = self.env["wa.message"].search_count([])
        self.conversation._send_read_receipt(self.inbound.wamid, typing=True)
        self.drain()
        reads = self.simulator.state()["reads"]
        self.assertEqual([(r["message_id"], r["typing"]) for r in reads],
                         [(self.inbound.wamid, True)])
        self.assertEqual(self.env["wa.message"].search_count([]), before)

    def test_for_recipient_finds_reopens_or_creates(self):
        self.assertEqual(self.env["wa.conversation"]._for_recipient(phone="+54 9 11 5555-6666"),
                         self.conversation)
        self.conversation.action_close()
        self.assertEqual(self.env["wa.conversation"]._for_recipient(
            partner=self.conversation.partner_id), self.conversation)
        self.assertEqual(self.conversation.status, "open")
        nobody = self.env["res.partner"].create({"name": "Sin Teléfono"})
        with self.assertRaisesRegex(UserError, "Sin Teléfono"):
            self.env["wa.conversation"]._for_recipient(partner=nobody)
        new = self.env["res.partner"].create({"name": "Rosa", "mobile": "011 15 2222-3333"})
        conversation = self.env["wa.conversation"]._for_recipient(partner=new)
        self.assertEqual(conversation.partner_id, new)
        self.assertEqual(conversation.account_id, self.account_a)
        self.assertNotEqual(conversation, self.conversation)

    def test_meta_canonical_wa_id_is_stored(self):
        # Typed without the mobile 9: Meta answers with the 549 wa_id.
        partner = self.env["res.partner"].create({"name": "Rosa", "mobile": "+54 11 2222-3333"})
        conversation = self.env["wa.conversation"]._for_recipient(partner=partner)
        self.simulator.store.open_window("5491122223333")
        conversation.write({"last_inbound_at": self.conversation.last_inbound_at})
        conversation.send_text("Hola Rosa")
        self.drain()
        self.assertEqual(self.sent()[0]["wa_id"], "5491122223333")
        self.assertEqual(conversation.wa_id, "5491122223333")
        self.assertEqual(partner.wa_id, "5491122223333")

    def test_opt_out_blocks_automated_and_asks_for_manual(self):
        self.conversation.partner_id.wa_opt_out = True
        with self.assertRaisesRegex(UserError, "nothing automated"):
            self.conversation.with_context(wa_automated=True).send_text("Recordatorio")
        with self.assertRaisesRegex(UserError, "Confirm"):
            self.conversation.send_text("Hola")
        self.assertFalse(self.queue_items().filtered(lambda i: i.message_type == "text"))
        self.conversation.with_context(wa_opt_out_confirmed=True).send_text("Hola")
        self.drain()
        self.assertEqual(len(self.sent()), 1)

    def test_an_agent_sends_with_their_own_rights(self):
        agent = self.env["res.users"].create({
            "name": "Agente", "login": "agente-wa", "company_id": self.company_a.id,
            "company_ids": [(6, 0, self.company_a.ids)],
            "groups_id": [(6, 0, [self.env.ref("campotech_whatsapp.group_wa_user").id])]})
        conversation = self.conversation.with_user(agent)
        message_id = conversation.send_text("Hola, soy Agente")
        attachment = self.env["ir.attachment"].with_user(agent).create({
            "name": "foto.png", "mimetype": "image/png",
            "raw": b"\x89PNG\r\n\x1a\n" + b"0" * 100})
        conversation.send_media(attachment.id, "La foto")
        self.drain()
        self.assertEqual([m["type"] for m in self.sent()], ["text", "image"])
        self.assertEqual(self.env["wa.message"].browse(message_id).state, "sent")
