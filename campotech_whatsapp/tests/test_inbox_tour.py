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


@tagged("post_install", "-at_install")
class TestInboxTour(OutboundMixin, HttpCase):
    """The inbox in a real browser, live over the bus.

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

    def play_customer_and_meta(self, errors):
        """The customer writes once the chat is open; Meta reports the reply's statuses."""
        # Code run from this thread keeps to the test transaction, as in the test's own thread.
        threading.current_thread().testing = True
        try:
            self.assertTrue(self.chat_opened.wait(60), "the chat never opened")
            time.sleep(1)
            self.post_webhook(self.inbound_payload(
                self.account_a, {"from": CUSTOMER, "type": "text", "text": "¿Llegan a las 10?"}))
            wamid = None
            deadline = time.time() + 60
            while not wamid and time.time() < deadline:
                time.sleep(0.5)
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    queue = env["wa.outbound.queue"]
                    if queue.search_count([("message_type", "=", "text"), ("state", "=", "pending")]):
                        time.sleep(1.5)  # long enough for the pending clock to be seen
                        queue._process_queue()
                    message = env["wa.message"].search(
                        [("direction", "=", "outbound"), ("body", "=", "Sí, llegamos a las 10")])
                    wamid = message.wamid
            self.assertTrue(wamid, "the reply never reached the simulator")
            for status in ("delivered", "read"):
                time.sleep(1.5)
                self.post_webhook(self.status_payload(self.account_a, wamid, status))
        except Exception as error:  # pylint: disable=broad-except
            errors.append(error)

    def test_inbox_live_reply_and_ticks(self):
        self.env["res.partner"].create({"name": "Juana Tour", "mobile": "+" + CUSTOMER})
        conversation = self.customer_writes(text="Hola, ¿vienen hoy?")
        self.assertEqual(conversation.partner_id.name, "Juana Tour")
        errors = []
        threads = [threading.Thread(target=self.notify_bus, daemon=True),
                   threading.Thread(target=self.play_customer_and_meta, args=(errors,), daemon=True)]
        for thread in threads:
            thread.start()
        self.start_tour("/odoo/action-campotech_whatsapp.action_wa_inbox",
                        "campotech_whatsapp_inbox", login="admin", timeout=120)
        threads[1].join(30)
        self.stop.set()
        self.assertFalse(errors, errors)
        reply = self.env["wa.message"].search([("body", "=", "Sí, llegamos a las 10")])
        self.assertEqual(reply.state, "read")
        self.assertEqual(conversation.unread_count, 0, "opening the chat marked it read")


@tagged("post_install", "-at_install")
class TestInboxUnitJs(HttpCase):
    """The Hoot tests of the screens' logic (static/tests/unit), in a real browser."""

    def test_hoot_chat_logic(self):
        self.browser_js(
            "/web/tests?headless&loglevel=2&preset=desktop&timeout=15000&filter=campotech_whatsapp",
            "", "", login="admin", timeout=600, success_signal="[HOOT] test suite succeeded",
            error_checker=lambda message: "[HOOT]" not in message)
