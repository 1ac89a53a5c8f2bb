"""The optional Pusher broadcaster, end to end: webhook -> records -> wa.bus flush ->
after the commit -> the real ``pusher`` library -> a local stand-in of Pusher's HTTP
API that verifies each request's signature (cloud/simulator/pusher_standin.py).

A test cursor never commits: ``commit()`` below runs what a commit runs, the
pre-commit hooks (wa.bus flush), then the post-commit ones (where the events
are handed to the background sender).
"""

import json
import socket
import unittest
from unittest.mock import patch

from odoo.tests import TransactionCase, tagged
from odoo.tools import config

from ..cloud import broadcast
from ..cloud.crypto import generate_key
from ..cloud.simulator.pusher_standin import PusherStandIn
from .common import KEY, SECRET_B, WhatsAppMixin, wait_for
from .test_secrets import every_log_line

APP_A, KEY_A, PUSHER_SECRET_A = "5101", "key-company-a", "pusher-secret-company-a-0001"
APP_B, KEY_B, PUSHER_SECRET_B = "5202", "key-company-b", "pusher-secret-company-b-0002"
PUSHER_SECRETS = (PUSHER_SECRET_A, PUSHER_SECRET_B)


@tagged("post_install", "-at_install")
@unittest.skipUnless(broadcast.available(), "the optional pusher package is not installed")
class TestPusher(WhatsAppMixin, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.standin = PusherStandIn({APP_A: (KEY_A, PUSHER_SECRET_A), APP_B: (KEY_B, PUSHER_SECRET_B)})
        cls.standin.start()
        cls.addClassCleanup(cls.standin.stop)
        cls.agent_a = cls.company_user("pusher_agent_a", cls.company_a, name="Ana")

    def setUp(self):
        super().setUp()
        self.commit()
        self.standin.reset()
        self.addCleanup(self.standin.reset)

    def commit(self):
        """What a commit runs: wa.bus's flush, then the post-commit hand-over."""
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.cr.postcommit.run()
        self.assertTrue(broadcast.BROADCASTER.wait_idle(20), "the background sender went idle")

    def enable(self, account, app, key, secret, port=None):
        account.write({"pusher_enabled": True, "pusher_app_id": app, "pusher_key": key,
                       "pusher_secret": secret, "pusher_host": "127.0.0.1",
                       "pusher_port": port or self.standin.port, "pusher_ssl": False})

    def inbound_a(self, text="Se me rompió el aire"):
        self.receive(self.inbound_payload(self.account_a, {"type": "text", "text": text}))
        return self.conversations(self.account_a)

    def bus_payloads(self, event):
        rows = self.env["bus.bus"].sudo().search([])
        return [m["payload"] for m in (json.loads(row.message) for row in rows)
                if m.get("type") == event]

    # --- off unless enabled ------------------------------------------------------------

    def test_off_by_default_nothing_is_sent(self):
        self.assertFalse(self.account_a.pusher_enabled)
        self.assertFalse(self.env["res.config.settings"].create({}).wa_pusher_enabled)
        self.inbound_a()
        self.commit()
        self.assertTrue(self.bus_payloads("campotech_whatsapp/new-message"), "the bus still rings")
        self.assertEqual(self.standin.requests(), [])

    def test_without_the_package_nothing_is_sent_and_the_settings_say_so(self):
        self.enable(self.account_a, APP_A, KEY_A, PUSHER_SECRET_A)
        with patch.object(broadcast, "pusher_lib", None):
            self.assertFalse(self.env["res.config.settings"].create({}).wa_pusher_available)
            self.inbound_a()
            self.commit()
            action = self.account_a.action_test_pusher()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("pip install pusher", action["params"]["message"])
        self.assertEqual(self.standin.requests(), [])
        self.assertTrue(self.env["res.config.settings"].create({}).wa_pusher_available)

    # --- the four events ------------------------------------------------------------------

    def test_an_inbound_message_reaches_the_company_and_conversation_channels(self):
        self.enable(self.account_a, APP_A, KEY_A, PUSHER_SECRET_A)
        conversation = self.inbound_a()
        self.assertEqual(self.standin.requests(), [], "nothing leaves before the commit")
        self.commit()
        events = self.standin.events(app_id=APP_A)
        self.assertEqual([(e["channel"], e["name"]) for e in events], [
            ("whatsapp-org-%d" % self.company_a.id, "new-message"),
            ("whatsapp-conv-%d" % conversation.id, "new-message")])
        for event in events:
            data = event["data"]
            self.assertEqual(data["conversation_id"], conversation.id)
            self.assertEqual(data["message"]["body"], "Se me rompió el aire")
            self.assertEqual(data["message"]["direction"], "inbound")
            self.assertEqual(data["conversation"]["unread_count"], 1)
            self.assertEqual(data["conversation"]["phone"], "+54 9 11 5555-6666")
        self.assertEqual(events[0]["data"], self.bus_payloads("campotech_whatsapp/new-message")[0],
                         "Pusher carries the bus payload")

    def test_status_conversation_and_typing_events_follow(self):
        self.enable(self.account_a, APP_A, KEY_A, PUSHER_SECRET_A)
        message = self.outbound(self.account_a, "wamid.PUSH1")
        conversation = message.conversation_id
        self.commit()
        self.standin.reset()
        self.receive(self.status_payload(self.account_a, "wamid.PUSH1", "delivered"))
        self.commit()
        status = self.standin.events(name="status-update")
        self.assertEqual({e["channel"] for e in status}, {
            "whatsapp-org-%d" % self.company_a.id, "whatsapp-conv-%d" % conversation.id})
        self.assertEqual(status[0]["data"]["message_id"], message.id)
        self.assertEqual(status[0]["data"]["state"], "delivered")
        conversation.with_user(self.agent_a).write({"user_id": self.agent_a.id})
        self.commit()
        update = self.standin.events(name="conversation-update",
                                     channel="whatsapp-conv-%d" % conversation.id)
        self.assertEqual(len(update), 1)
        self.assertEqual(update[0]["data"]["conversation"]["user"],
                         {"id": self.agent_a.id, "name": "Ana"})
        conversation.with_user(self.agent_a).wa_typing()
        self.commit()
        typing = self.standin.events(name="typing", channel="whatsapp-org-%d" % self.company_a.id)
        self.assertEqual([e["data"] for e in typing], [{
            "conversation_id": conversation.id, "user_id": self.agent_a.id, "user_name": "Ana"}])

    def test_private_channels_when_asked(self):
        self.enable(self.account_a, APP_A, KEY_A, PUSHER_SECRET_A)
        self.account_a.pusher_private = True
        conversation = self.inbound_a()
        self.commit()
        self.assertEqual({e["channel"] for e in self.standin.events()}, {
            "private-whatsapp-org-%d" % self.company_a.id,
            "private-whatsapp-conv-%d" % conversation.id})

    def test_a_rolled_back_transaction_sends_nothing(self):
        self.enable(self.account_a, APP_A, KEY_A, PUSHER_SECRET_A)
        self.inbound_a()
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.cr.postcommit.clear()  # what a rollback does to the post-commit hooks
        self.assertTrue(broadcast.BROADCASTER.wait_idle(20))
        self.assertEqual(self.standin.requests(), [])

    # --- a failing Pusher never breaks Odoo -----------------------------------------------

    def test_a_failing_pusher_never_breaks_the_transaction(self):
        self.enable(self.account_a, APP_A, KEY_A, PUSHER_SECRET_A)
        self.standin.fail(500)
        before = dict(broadcast.BROADCASTER.stats)
        with self.assertLogs("odoo.addons.campotech_whatsapp.cloud.broadcast", "WARNING") as logs:
            self.inbound_a("Falla Pusher")
            self.commit()
        self.assertEqual(broadcast.BROADCASTER.stats["failed"], before["failed"] + 2)
        self.assertIn("PusherBadStatus", logs.output[0])
        self.assertTrue(any(p["message"]["body"] == "Falla Pusher"
                            for p in self.bus_payloads("campotech_whatsapp/new-message")),
                        "the bus event went all the same")
        self.assertEqual(self.env["wa.message"].search_count([("body", "=", "Falla Pusher")]), 1,
                         "the cursor still works and the message is stored")

    def test_pusher_down_or_hung_never_holds_the_transaction(self):
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        self.enable(self.account_a, APP_A, KEY_A, PUSHER_SECRET_A, port=closed_port)
        before = dict(broadcast.BROADCASTER.stats)
        with self.assertLogs("odoo.addons.campotech_whatsapp.cloud.broadcast", "WARNING") as logs:
            self.inbound_a("Pusher caído")
            self.commit()
        self.assertIn("ConnectionError", logs.output[0])
        self.assertEqual(broadcast.BROADCASTER.stats["failed"], before["failed"] + 2)
        self.assertTrue(self.bus_payloads("campotech_whatsapp/new-message"))

        # A Pusher that holds the call: the commit's hand-over returns while the
        # background sender still waits, and the events arrive once it answers.
        self.account_a.pusher_port = self.standin.port
        failed = broadcast.BROADCASTER.stats["failed"]
        self.standin.hang()
        self.inbound_a("Pusher lento")
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.cr.postcommit.run()
        self.assertTrue(wait_for(lambda: self.standin.in_flight == 1),
                        "the sender's call is held by the stand-in")
        self.assertEqual(self.standin.events(), [])
        self.assertEqual(self.env["wa.message"].search_count([("body", "=", "Pusher lento")]), 1)
        self.standin.release()
        self.assertTrue(broadcast.BROADCASTER.wait_idle(20))
        self.assertEqual([e["data"]["message"]["body"] for e in self.standin.events()],
                         ["Pusher lento", "Pusher lento"])
        self.assertEqual(broadcast.BROADCASTER.stats["failed"], failed,
                         "the held call succeeded: nobody gave up waiting for it")

    def test_a_broken_configuration_costs_a_log_line_not_the_transaction(self):
        self.enable(self.account_a, APP_A, KEY_A, PUSHER_SECRET_A)
        self.account_a.pusher_app_id = "not-a-number"
        with self.assertLogs("odoo.addons.campotech_whatsapp.models.wa_account", "WARNING") as logs:
            self.inbound_a()
            self.commit()
        self.assertIn("Pusher broadcast skipped", logs.output[0])
        self.assertEqual(self.standin.requests(), [])
        self.assertTrue(self.bus_payloads("campotech_whatsapp/new-message"))

    # --- companies ---------------------------------------------------------------------------

    def test_company_b_never_receives_company_a_events(self):
        self.enable(self.account_a, APP_A, KEY_A, PUSHER_SECRET_A)
        self.enable(self.account_b, APP_B, KEY_B, PUSHER_SECRET_B)
        self.inbound_a()
        self.commit()
        self.assertEqual(self.standin.events(app_id=APP_B), [])
        self.receive(self.inbound_payload(self.account_b, {"type": "text", "text": "Hola Córdoba"}),
                     secret=SECRET_B)
        self.commit()
        events_b = self.standin.events(app_id=APP_B)
        conversation_b = self.conversations(self.account_b)
        self.assertEqual({e["channel"] for e in events_b}, {
            "whatsapp-org-%d" % self.company_b.id, "whatsapp-conv-%d" % conversation_b.id})
        self.assertEqual([e["data"]["message"]["body"] for e in events_b], ["Hola Córdoba"] * 2)
        self.assertEqual({e["channel"] for e in self.standin.events(app_id=APP_A)}, {
            "whatsapp-org-%d" % self.company_a.id,
            "whatsapp-conv-%d" % self.conversations(self.account_a).id})

    # --- the secret ------------------------------------------------------------------------------

    def assertNoPusherSecret(self, text, where):
        for secret in PUSHER_SECRETS:
            self.assertNotIn(secret, text, "a Pusher secret appears in %s" % where)

    def test_settings_store_the_secret_encrypted_and_never_return_it(self):
        settings = self.env["res.config.settings"].create({
            "wa_pusher_enabled": True, "wa_pusher_app_id": APP_A, "wa_pusher_key": KEY_A,
            "wa_pusher_secret": PUSHER_SECRET_A, "wa_pusher_host": "127.0.0.1",
            "wa_pusher_port": self.standin.port, "wa_pusher_ssl": False})
        self.assertNoPusherSecret(json.dumps(settings.web_read(
            {name: {} for name in settings._fields if name.startswith("wa_pusher")})), "the settings")
        settings.execute()
        self.env.flush_all()
        self.assertTrue(self.account_a.pusher_enabled)
        self.assertTrue(self.account_a.pusher_secret_set)
        self.assertEqual(self.account_a._secret("pusher_secret"), PUSHER_SECRET_A)
        for table, record in (("wa_account", self.account_a), ("res_config_settings", settings)):
            self.env.cr.execute("SELECT * FROM %s WHERE id = %%s" % table, [record.id])
            self.assertNoPusherSecret(json.dumps(self.env.cr.fetchall(), default=str), table)
        names = [name for name in self.account_a._fields if name.startswith("pusher")]
        self.assertNoPusherSecret(json.dumps(self.account_a.read(names), default=str), "read()")
        self.assertNoPusherSecret(json.dumps(self.account_a.export_data(names)), "export_data()")
        self.assertNoPusherSecret(json.dumps(self.account_a.web_read(
            {name: {} for name in names}), default=str), "web_read()")
        reopened = self.env["res.config.settings"].create({})
        self.assertTrue(reopened.wa_pusher_secret_set)
        self.assertFalse(reopened.wa_pusher_secret, "the settings show no secret, only that one is stored")
        self.assertEqual(reopened.wa_pusher_app_id, APP_A)
        self.account_a.write({"pusher_secret": self.account_a.pusher_secret})  # the mask
        self.assertEqual(self.account_a._secret("pusher_secret"), PUSHER_SECRET_A)

    def test_no_log_line_carries_the_pusher_secret(self):
        with every_log_line() as lines:
            self.enable(self.account_a, APP_A, KEY_A, PUSHER_SECRET_A)
            self.inbound_a()
            self.commit()
            self.standin.fail(500, count=1)
            self.inbound_a("otra vez")
            self.commit()
            self.account_a.pusher_key = KEY_B  # the stand-in answers 401 with its string to sign
            self.inbound_a("y otra")
            self.commit()
            self.account_a.action_test_pusher()
        self.assertTrue([line for line in lines if "events not delivered" in line])
        self.assertTrue([line for line in lines if "PusherBadAuth" in line])
        self.assertNoPusherSecret("\n".join(lines), "the logs")

    def test_rotating_the_key_keeps_the_pusher_secret_readable(self):
        self.enable(self.account_a, APP_A, KEY_A, PUSHER_SECRET_A)
        new_key = generate_key()
        with patch.dict(config.options, {"campotech_whatsapp_key": "%s,%s" % (new_key, KEY)}):
            self.env["wa.account"]._rotate_secrets()
        with patch.dict(config.options, {"campotech_whatsapp_key": new_key}):
            self.assertEqual(self.account_a._secret("pusher_secret"), PUSHER_SECRET_A)

    # --- Test Pusher ---------------------------------------------------------------------------

    def test_the_test_button_sends_one_event_and_reports_pushers_answer(self):
        self.enable(self.account_a, APP_A, KEY_A, PUSHER_SECRET_A)
        action = self.env["res.config.settings"].create({}).action_wa_test_pusher()
        self.assertEqual(action["params"]["type"], "success", action["params"])
        self.assertEqual([(e["channel"], e["name"]) for e in self.standin.events()], [
            ("whatsapp-org-%d" % self.company_a.id, "connection-test")])
        self.standin.fail(403, count=1)
        with self.assertLogs("odoo.addons.campotech_whatsapp.cloud.broadcast", "WARNING"):
            action = self.account_a.action_test_pusher()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("PusherForbidden", action["params"]["message"])
        self.assertNoPusherSecret(json.dumps(action), "the test's answer")
        self.account_a.pusher_key = False
        action = self.account_a.action_test_pusher()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("key and secret", action["params"]["message"])
