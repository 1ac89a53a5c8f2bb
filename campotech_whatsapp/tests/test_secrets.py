"""The access token and app secret never leave the server: not in any log line at any level,
not in an error, not through read(), exports or the web client's calls, not on the bus.

test_security.py checks the stored columns, read() and export of the secret fields and
the form's answers; here every logger is captured at DEBUG (SQL, HTTP clients, Odoo,
ours) while the account is used the ways that touch its secrets, and every field of the
account goes through the web client's own calls as an administrator.
"""

import contextlib
import json
import logging
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from ..cloud import webhook
from ..cloud.crypto import generate_key
from .common import SECRET_A, SECRET_B, TOKEN_A, TOKEN_B, WhatsAppMixin

SECRETS = (TOKEN_A, SECRET_A, TOKEN_B, SECRET_B)
URL = "/whatsapp/webhook"


class _Keep(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record):
        # format() renders the arguments and any traceback, as a log file would.
        self.lines.append(self.format(record))


@contextlib.contextmanager
def every_log_line():
    """Capture every logger at DEBUG; the usual handlers are paused meanwhile (no flood)."""
    keep = _Keep()
    root = logging.getLogger()
    loggers = [root] + [logger for logger in logging.Logger.manager.loggerDict.values()
                        if isinstance(logger, logging.Logger)]
    saved = [(logger, logger.level, logger.disabled, logger.handlers[:]) for logger in loggers]
    try:
        for logger in loggers:
            logger.disabled = False
            logger.setLevel(logging.DEBUG)
            if logger is root or not logger.propagate:
                logger.handlers = [keep]
        yield keep.lines
    finally:
        for logger, level, disabled, handlers in saved:
            logger.setLevel(level)
            logger.disabled = disabled
            logger.handlers = handlers


@tagged("post_install", "-at_install")
class TestSecrets(WhatsAppMixin, HttpCase):

    def assertNoSecret(self, text, where):
        for secret in SECRETS:
            self.assertNotIn(secret, text, "a secret appears in %s" % where)

    def post(self, raw, secret):
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Hub-Signature-256"] = webhook.sign(raw, secret)
        return self.url_open(URL, data=raw, headers=headers)

    def test_no_log_line_at_any_level_carries_a_secret(self):
        with every_log_line() as lines:
            self.account_a.action_test_connection()
            self.account_a.action_sync_templates()
            self.account_b.action_test_connection()  # the simulator knows only A's token: 190
            self.simulator.fault(code=131000, count=1)
            self.account_a.action_sync_templates()
            self.account_a.graph_url = "http://127.0.0.1:9"  # nothing listens: unreachable
            self.account_a.action_test_connection()
            self.account_a.graph_url = self.simulator.graph_url
            good = self.encode(self.inbound_payload(self.account_a, {
                "type": "image", "caption": "Foto", "content_b64": "aG9sYQ==",
                "mime_type": "image/jpeg"}))
            self.assertEqual(self.post(good, SECRET_A).status_code, 200)
            self.assertEqual(self.post(good, "not-an-app-secret-of-ours").status_code, 403)
            self.assertEqual(self.post(good, None).status_code, 403)
            self.assertEqual(self.post(b'{"object": "whatsapp_business_account", "entry": [',
                                       SECRET_A).status_code, 200)
            self.env["wa.webhook.log"]._cron_process()
            self.env["wa.message"]._cron_download_media()
            self.env["res.config.settings"].create({
                "wa_phone_number_id": "1001", "wa_access_token": TOKEN_A,
                "wa_app_secret": SECRET_A}).execute()
            self.env.flush_all()
        self.assertGreater(len(lines), 50, "the capture saw the SQL and HTTP debug lines")
        self.assertTrue([line for line in lines if line.startswith("odoo.sql_db DEBUG")],
                        "SQL statements were captured too")
        self.assertTrue([line for line in lines if line.startswith("urllib3")],
                        "the HTTP client's own debug lines were captured too")
        self.assertNoSecret("\n".join(lines), "the logs")

    def test_errors_about_secrets_do_not_quote_them(self):
        self.env.cr.execute("SELECT access_token_encrypted FROM wa_account WHERE id = %s",
                            [self.account_a.id])
        ciphertext = self.env.cr.fetchone()[0]
        with patch.dict(config.options, {"campotech_whatsapp_key": generate_key()}):
            with self.assertRaises(UserError) as caught:
                self.account_a._secret("access_token")
            with every_log_line() as lines:
                self.assertFalse(self.account_a._signed(b"{}", webhook.sign(b"{}", SECRET_A)))
        for text, where in ((str(caught.exception), "the error"), ("\n".join(lines), "the logs")):
            self.assertNoSecret(text, where)
            self.assertNotIn(ciphertext, text, "the ciphertext appears in %s" % where)
        self.account_a.access_token = "EAAG-wrong-token-value"
        action = self.account_a.action_test_connection()
        self.assertNotIn("EAAG-wrong-token-value", json.dumps(action))

    def call_kw(self, model, method, args, kwargs=None):
        response = self.json_rpc(model, method, args, kwargs)
        self.assertIn('"result"', response.text, response.text[:500])
        return response.text

    def test_the_web_client_never_receives_a_secret_even_as_administrator(self):
        self.authenticate("admin", "admin")
        names = sorted(self.env["wa.account"].fields_get())
        self.assertIn("access_token_encrypted", names)  # an administrator sees the fields...
        specification = {name: {} for name in names if self.env["wa.account"]._fields[name].type
                         not in ("one2many", "many2many")}
        for method, args, kwargs in (
                ("web_read", [self.account_a.ids], {"specification": specification}),
                ("web_search_read", [[]], {"specification": specification}),
                ("read", [self.account_a.ids, names], {}),
                ("search_read", [[]], {"fields": names}),
                ("export_data", [self.account_a.ids, names], {}),
                ("onchange", [[], {}, [], {name: {} for name in specification}], {}),
                ("fields_get", [], {})):
            with self.subTest(method=method):
                self.assertNoSecret(self.call_kw("wa.account", method, args, kwargs), method)
        settings_text = self.call_kw("res.config.settings", "web_read", [[self.env[
            "res.config.settings"].create({}).id]], {"specification": {
                name: {} for name in self.env["res.config.settings"]._fields
                if name.startswith("wa_")}})
        self.assertNoSecret(settings_text, "the settings form")

    def test_the_bus_never_carries_a_secret(self):
        self.receive(self.inbound_payload(self.account_a, {"type": "text", "text": "Hola"}))
        self.receive(self.inbound_payload(self.account_b, {"type": "text", "text": "Hola"}),
                     secret=SECRET_B)
        self.env.cr.precommit.run()  # what a commit would send
        notifications = self.env["bus.bus"].sudo().search([])
        self.assertTrue(notifications, "new messages were announced on the bus")
        self.assertNoSecret(json.dumps(notifications.read(["channel", "message"]), default=str),
                            "the bus")
