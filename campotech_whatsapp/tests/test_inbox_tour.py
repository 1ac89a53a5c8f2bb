import json
import threading
import time
from unittest.mock import patch

import odoo
from odoo import SUPERUSER_ID, api
from odoo.addons.bus.models.bus import channel_with_db
from odoo.addons.bus.websocket import WebsocketConnectionHandler
from odoo.tests import HttpCase, tagged

from ..cloud import webhook
from .common import SECRET_A
from .outbound_common import CUSTOMER, OutboundMixin


class LiveTourCase(OutboundMixin, HttpCase):
    """A chat screen in a real browser, live over the bus, while the test
    plays the customer (signed webhooks) and Meta (the simulator's statuses).

    Odoo turns the websocket off during tests and drops post-commit hooks
    (where the bus says "new notifications" to PostgreSQL). Here the
    websocket is allowed, as Odoo's own bus tests do, and a helper thread
    sends that signal for the admin's channel, so the browser receives
    exactly the rows our code wrote to bus.bus.
    """

    def setUp(self):
        super().setUp()
        self.startPatcher(patch.object(WebsocketConnectionHandler, "websocket_allowed",
                                       return_value=True))
        self.stop = threading.Event()
        self.addCleanup(self.stop.set)
        self.chat_opened = threading.Event()
        Conversation = type(self.env["wa.conversation"])
        original = Conversation.wa_get_messages
        opened = self.chat_opened

        def wa_get_messages(records, *args, **kwargs):
            opened.set()
            return original(records, *args, **kwargs)

        self.startPatcher(patch.object(Conversation, "wa_get_messages", wa_get_messages))
        admin = self.env.ref("base.user_admin")
        admin.partner_id.name = "Administrador"
        self.channel = channel_with_db(self.env.cr.dbname, admin.partner_id)

    def notify_bus(self):
        """What the bus's post-commit hook does, which test cursors skip."""
        while not self.stop.wait(0.4):
            with odoo.sql_db.db_connect("postgres").cursor() as cr:
                cr.execute("SELECT pg_notify('imbus', %s)", [json.dumps([self.channel])])

    def locked_account(self, env):
        """The test's account read through ``env``'s test cursor: this thread
        must not query the test transaction's own cursor, which a browser
        request may be using at that moment (the test lock covers only
        registry cursors)."""
        return self.account_a.with_env(env)

    def payload(self, build, *args):
        with self.registry.cursor() as cr:
            return build(self.locked_account(api.Environment(cr, SUPERUSER_ID, {})), *args)

    def post_webhook(self, payload):
        raw = self.encode(payload)
        response = self.url_open("/whatsapp/webhook", data=raw,
                                 headers={"X-Hub-Signature-256": webhook.sign(raw, SECRET_A),
                                          "Content-Type": "application/json"})
        self.assertEqual(response.status_code, 200)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            for log in env["wa.webhook.log"].search([("processed", "=", False)]):
                log._process_safely()

    def play_customer_and_meta(self, errors, reply="Sí, llegamos a las 10", then=None):
        """The customer writes once the chat is open; Meta reports the reply's
        statuses; ``then(env)``, if given, runs last (say, to send what the
        agent queued afterwards)."""
        # Code run from this thread keeps to the test transaction, as in the test's own thread.
        threading.current_thread().testing = True
        try:
            self.assertTrue(self.chat_opened.wait(60), "the chat never opened")
            time.sleep(1)
            self.post_webhook(self.payload(
                self.inbound_payload, {"from": CUSTOMER, "type": "text", "text": "¿Llegan a las 10?"}))
            wamid = None
            deadline = time.time() + 60
            while not wamid and time.time() < deadline and not self.stop.is_set():
                time.sleep(0.5)
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    queue = env["wa.outbound.queue"]
                    if queue.search_count([("message_type", "=", "text"), ("state", "=", "pending")]):
                        time.sleep(1.5)  # long enough for the pending clock to be seen
                        queue._process_queue()
                    message = env["wa.message"].search(
                        [("direction", "=", "outbound"), ("body", "=", reply)])
                    wamid = message.wamid
            self.assertTrue(wamid, "the reply never reached the simulator")
            for status in ("delivered", "read"):
                time.sleep(1.5)
                self.post_webhook(self.payload(self.status_payload, wamid, status))
            if then:
                then()
        except Exception as error:  # pylint: disable=broad-except
            errors.append(error)

    def play(self, url, tour, **kwargs):
        """Run ``tour`` from ``url`` while the customer and Meta play their part."""
        errors = []
        threads = [threading.Thread(target=self.notify_bus, daemon=True),
                   threading.Thread(target=self.play_customer_and_meta, args=(errors,),
                                    kwargs=kwargs, daemon=True)]
        for thread in threads:
            thread.start()
        try:
            self.start_tour(url, tour, login="admin", timeout=150)
            threads[1].join(30)
        finally:
            # A failed tour must not leave the customer's thread writing into
            # the next test's transaction.
            self.stop.set()
            threads[1].join(30)
        self.assertFalse(errors, errors)


@tagged("post_install", "-at_install")
class TestInboxTour(LiveTourCase):
    """The inbox: a customer's message appears without a reload, the reply's ticks move."""

    def test_inbox_live_reply_and_ticks(self):
        self.env["res.partner"].create({"name": "Juana Tour", "mobile": "+" + CUSTOMER})
        conversation = self.customer_writes(text="Hola, ¿vienen hoy?")
        self.assertEqual(conversation.partner_id.name, "Juana Tour")
        self.play("/odoo/action-campotech_whatsapp.action_wa_inbox", "campotech_whatsapp_inbox")
        reply = self.env["wa.message"].search([("body", "=", "Sí, llegamos a las 10")])
        self.assertEqual(reply.state, "read")
        self.assertEqual(conversation.unread_count, 0, "opening the chat marked it read")


@tagged("post_install", "-at_install")
class TestJobChatTour(LiveTourCase):
    """The same chat from a job's form: the WhatsApp button opens the
    customer's conversation, the customer's message arrives live, and the
    agent's reply and reaction keep the job as their origin."""

    def send_reactions(self):
        """The agent reacted once the ticks were blue: the queue sends it to Meta."""
        deadline = time.time() + 40
        while time.time() < deadline and not self.stop.is_set():
            time.sleep(0.5)
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                queue = env["wa.outbound.queue"]
                if queue.search_count([("message_type", "=", "reaction"), ("state", "=", "pending")]):
                    queue._process_queue()
                    return
        raise AssertionError("the agent's reaction was never queued")

    def test_job_form_chat_live_reply_origin_and_ticks(self):
        partner = self.env["res.partner"].create({"name": "Juana Tour", "mobile": "+" + CUSTOMER})
        conversation = self.customer_writes(text="Hola, ¿vienen hoy?")
        project = self.env["project.project"].create({"name": "Servicio técnico"})
        task = self.env["project.task"].create({
            "name": "Cambiar termotanque", "project_id": project.id, "partner_id": partner.id})
        self.play("/odoo/project.task/%d" % task.id, "campotech_whatsapp_job_chat",
                  then=self.send_reactions)
        reply = self.env["wa.message"].search([("body", "=", "Sí, llegamos a las 10")])
        self.assertEqual(reply.conversation_id, conversation)
        self.assertEqual(reply.state, "read")
        self.assertEqual((reply.res_model, reply.res_id), ("project.task", task.id))
        logged = task.message_ids.filtered(lambda m: "Sí, llegamos a las 10" in (m.body or ""))
        self.assertEqual(len(logged), 1, "the reply is logged on the job's chatter")
        question = self.env["wa.message"].search([("body", "=", "¿Llegan a las 10?")])
        reaction = self.env["wa.message"].search([("message_type", "=", "reaction"),
                                                  ("direction", "=", "outbound")])
        self.assertEqual((reaction.body, reaction.reply_to_id), ("👍", question))
        sent = [m["body"] for m in self.sent() if m["body"].get("type") == "reaction"]
        self.assertEqual([m["reaction"] for m in sent],
                         [{"message_id": question.wamid, "emoji": "👍"}])


@tagged("post_install", "-at_install")
class TestInboxUnitJs(HttpCase):
    """The Hoot tests of the screens' logic (static/tests/unit), in a real browser."""

    def test_hoot_chat_logic(self):
        self.browser_js(
            "/web/tests?headless&loglevel=2&preset=desktop&timeout=15000&filter=campotech_whatsapp",
            "", "", login="admin", timeout=600, success_signal="[HOOT] test suite succeeded",
            error_checker=lambda message: "[HOOT]" not in message)
