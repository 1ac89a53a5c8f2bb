import logging
import secrets
from collections import namedtuple
from datetime import timedelta

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import config, ormcache

from ..cloud import broadcast
from ..cloud import constants as C
from ..cloud.client import CloudClient
from ..cloud.crypto import CryptoError, TokenCipher, load_keys
from ..cloud.errors import CloudApiError, ErrorClass
from ..cloud.webhook import verify_challenge, verify_signature

_logger = logging.getLogger(__name__)

# What a secret field shows once it is set: never the secret, nor part of it.
SECRET_MASK = "••••••••"

# What the webhook controller needs of an account, kept per worker (see _webhook_routes).
WebhookRoute = namedtuple("WebhookRoute", "id company_id phone_number_id waba_id app_secret_encrypted")
# Writing any of these changes how webhooks are routed: the cache is cleared.
ROUTE_FIELDS = frozenset({"active", "company_id", "phone_number_id", "waba_id",
                          "app_secret_encrypted"})


# Every secret an account keeps: "<name>_encrypted" holds its Fernet
# ciphertext, "<name>" the form's mask, "<name>_set" whether one is stored.
SECRETS = ("access_token", "app_secret", "pusher_secret")


class WaAccount(models.Model):
    _name = "wa.account"
    # Activities tell the managers when sending stops (token, permission).
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _description = "WhatsApp Business Account"
    _order = "company_id, id"

    name = fields.Char(required=True, default="WhatsApp")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, ondelete="cascade",
        default=lambda self: self.env.company)
    waba_id = fields.Char("WhatsApp Business Account ID", index=True)
    phone_number_id = fields.Char("Phone Number ID", index=True)
    app_id = fields.Char(
        "Meta App ID",
        help="The Meta app of the access token; sample files for media template headers are "
             "uploaded to it.")
    display_phone_number = fields.Char()
    api_version = fields.Char("Graph API Version", required=True, default=C.DEFAULT_API_VERSION)
    graph_url = fields.Char(
        "Graph URL", required=True, default=C.GRAPH_URL,
        help="Meta's Graph API. Point it at the local simulator to try the addon "
             "without a Meta account.")
    throughput_mps = fields.Integer(
        "Messages per Second", default=C.DEFAULT_MPS,
        help="Meta's throughput for this number: 80 by default, up to 1000.")
    webhook_verify_token = fields.Char(
        groups="base.group_system", copy=False,
        default=lambda self: secrets.token_urlsafe(24),
        help="Paste this into Meta's webhook settings as the Verify Token.")
    webhook_url = fields.Char("Webhook URL", compute="_compute_webhook_url")

    # Secrets: only their Fernet ciphertext is stored, readable by system
    # administrators alone; the form shows a mask and takes a new value.
    access_token_encrypted = fields.Char(groups="base.group_system", copy=False)
    app_secret_encrypted = fields.Char(groups="base.group_system", copy=False)
    access_token = fields.Char(
        compute="_compute_secret_masks", inverse="_inverse_access_token",
        groups="base.group_system", help="Permanent system-user token; stored encrypted.")
    app_secret = fields.Char(
        compute="_compute_secret_masks", inverse="_inverse_app_secret",
        groups="base.group_system", help="Meta app secret, used to check webhook signatures.")
    # Computed apart from the masks: a write to a mask protects the fields of
    # its compute method, and these must follow the new ciphertext at once.
    access_token_set = fields.Boolean("Access Token Stored", compute="_compute_secrets_set")
    app_secret_set = fields.Boolean("App Secret Stored", compute="_compute_secrets_set")

    # Optional Pusher broadcaster for dashboards outside Odoo (cloud/broadcast.py):
    # off unless enabled; the secret is kept as the Meta ones are.
    pusher_enabled = fields.Boolean(
        "Broadcast to Pusher", copy=False,
        help="Also send the live events (new message, status, conversation, typing) to a "
             "Pusher app, for dashboards outside Odoo. Needs the pusher Python package.")
    pusher_app_id = fields.Char("Pusher App ID", copy=False)
    pusher_key = fields.Char(copy=False)
    pusher_cluster = fields.Char(help="The app's cluster, e.g. us2 or mt1.")
    pusher_host = fields.Char(
        help="Empty: Pusher's own host for the cluster. Another host for a Pusher-compatible "
             "server of your own.")
    pusher_port = fields.Integer(help="Empty: 443 with HTTPS, 80 without.")
    pusher_ssl = fields.Boolean("Pusher over HTTPS", default=True)
    pusher_private = fields.Boolean(
        "Private Pusher Channels",
        help="Use private-whatsapp-org-… channels: only subscribers your dashboard's server "
             "authorises receive the events. Public channels are open to anyone who knows "
             "the app key.")
    pusher_secret_encrypted = fields.Char(groups="base.group_system", copy=False)
    pusher_secret = fields.Char(
        compute="_compute_pusher_secret_mask", inverse="_inverse_pusher_secret",
        groups="base.group_system", help="Pusher app secret; stored encrypted.")
    pusher_secret_set = fields.Boolean("Pusher Secret Stored", compute="_compute_secrets_set")

    conversation_ids = fields.One2many("wa.conversation", "account_id")
    queue_paused = fields.Boolean(
        "Sending Paused", readonly=True, copy=False,
        help="Meta refused the access token or a permission: nothing is sent until a new "
             "token is saved or Test Connection succeeds.")
    queue_paused_reason = fields.Char("Pause Reason", readonly=True, copy=False)
    token_checked_at = fields.Datetime("Token Last Checked", readonly=True, copy=False)
    token_expires_on = fields.Date(
        copy=False,
        help="Optional: when the access token expires (Meta's Access Token Debugger shows "
             "it). Managers are warned a week before. Permanent system-user tokens do not "
             "expire.")
    template_ids = fields.One2many("wa.template", "account_id")

    _sql_constraints = [
        ("company_uniq", "unique(company_id)", "A company has one WhatsApp account."),
        ("phone_number_id_uniq", "unique(phone_number_id)",
         "This phone number ID already belongs to another WhatsApp account."),
    ]

    @api.constrains("throughput_mps")
    def _check_throughput_mps(self):
        for account in self:
            if not 0 < account.throughput_mps <= C.MAX_MPS:
                raise ValidationError(_("Messages per second must be between 1 and %s.", C.MAX_MPS))

    @api.constrains("api_version", "graph_url")
    def _check_client_settings(self):
        for account in self:
            try:
                CloudClient("-", base_url=account.graph_url, api_version=account.api_version)
            except ValueError as error:
                raise ValidationError(str(error)) from None

    def _compute_webhook_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for account in self:
            account.webhook_url = "%s/whatsapp/webhook" % base_url.rstrip("/")

    @api.depends(*(name + "_encrypted" for name in SECRETS))
    def _compute_secrets_set(self):
        for account in self:
            stored = account.sudo()
            for name in SECRETS:
                account[name + "_set"] = bool(stored[name + "_encrypted"])

    @api.depends("access_token_encrypted", "app_secret_encrypted")
    def _compute_secret_masks(self):
        for account in self:
            stored = account.sudo()
            account.access_token = SECRET_MASK if stored.access_token_encrypted else False
            account.app_secret = SECRET_MASK if stored.app_secret_encrypted else False

    # Apart from the Meta masks: a write to one mask protects its compute's fields.
    @api.depends("pusher_secret_encrypted")
    def _compute_pusher_secret_mask(self):
        for account in self:
            account.pusher_secret = SECRET_MASK if account.sudo().pusher_secret_encrypted else False

    def _inverse_pusher_secret(self):
        self._store_secret("pusher_secret")

    def _inverse_access_token(self):
        self._store_secret("access_token")

    def _inverse_app_secret(self):
        self._store_secret("app_secret")

    def _store_secret(self, name):
        for account in self:
            value = (account[name] or "").strip()
            if value != SECRET_MASK:  # the mask back unchanged keeps the stored secret
                account.sudo()[name + "_encrypted"] = self._cipher().encrypt(value) if value else False
        # Drop the typed value from the cache (a write protects it from being
        # recomputed): what is read next, web_save's answer included, is the mask.
        self.invalidate_recordset([name])

    @api.model
    def _cipher(self):
        """The Fernet cipher keyed by the deployment, never by this database."""
        try:
            return TokenCipher(load_keys(config.get("campotech_whatsapp_key")))
        except CryptoError as error:
            raise UserError(str(error)) from None

    def _secret(self, name):
        """Decrypted secret for server-side use only (client calls, signatures)."""
        self.ensure_one()
        encrypted = self.sudo()[name + "_encrypted"]
        if not encrypted:
            return None
        try:
            return self._cipher().decrypt(encrypted)
        except CryptoError as error:
            raise UserError(_("WhatsApp account %(name)s: %(error)s",
                              name=self.name, error=error)) from None

    def _signed(self, raw_body, signature_header):
        """Whether this account's app secret verifies a webhook signature."""
        self.ensure_one()
        try:
            secret = self._secret("app_secret")
        except UserError as error:
            _logger.error("WhatsApp account %s cannot check webhooks: %s", self.id, error)
            return False
        return bool(secret) and verify_signature(raw_body, signature_header, secret)

    @api.model
    def _rotate_secrets(self):
        """Re-encrypt every stored secret with the newest deployment key.

        After listing a new key first (``new,old``) in the configuration, run
        this (the account form's "Re-encrypt Secrets" button); the old key can
        then be removed.
        """
        cipher = self._cipher()
        accounts = self.sudo().with_context(active_test=False).search([])
        for account in accounts:
            for name in (secret + "_encrypted" for secret in SECRETS):
                if account[name]:
                    try:
                        account[name] = cipher.rotate(account[name])
                    except CryptoError as error:
                        raise UserError(_("WhatsApp account %(name)s: %(error)s",
                                          name=account.name, error=error)) from None
        return len(accounts)

    def action_rotate_secrets(self):
        count = self._rotate_secrets()
        return self._notify(_("Secrets re-encrypted"),
                            _("%s accounts now use the newest encryption key.", count), "success")

    def _pusher_settings(self):
        """This account's Pusher app (enabled or not); UserError when incomplete."""
        self.ensure_one()
        try:
            return broadcast.PusherConfig(
                app_id=(self.pusher_app_id or "").strip(), key=(self.pusher_key or "").strip(),
                secret=self._secret("pusher_secret") or "",
                cluster=(self.pusher_cluster or "").strip(), host=(self.pusher_host or "").strip(),
                port=self.pusher_port or 0, ssl=self.pusher_ssl, private=self.pusher_private)
        except ValueError as error:
            raise UserError(_("Pusher of WhatsApp account %(name)s: %(error)s",
                              name=self.name, error=error)) from None

    def _pusher_config(self):
        """The Pusher app the live events go to, or None: off, incomplete or no package.

        Called while a transaction ends: it never raises.
        """
        self.ensure_one()
        if not self.pusher_enabled or not broadcast.available():
            return None
        try:
            return self._pusher_settings()
        except UserError as error:
            _logger.warning("WhatsApp account %s: Pusher broadcast skipped: %s", self.id, error)
            return None

    def action_test_pusher(self):
        """Send one test event to the company channel now, and say how Pusher answered."""
        self.ensure_one()
        if not broadcast.available():
            return self._notify(_("Pusher test failed"), _(
                "The pusher Python package is not installed in Odoo's Python "
                "(pip install pusher)."), "danger")
        try:
            config = self._pusher_settings()
        except UserError as error:
            return self._notify(_("Pusher test failed"), str(error), "danger")
        channel = broadcast.org_channel(self.company_id.id, config.private)
        problem = broadcast.Broadcaster().send(config, [{
            "channel": channel, "name": broadcast.TEST_EVENT,
            "data": broadcast.encode_data({"company_id": self.company_id.id})}])
        if problem:
            return self._notify(_("Pusher test failed"), _(
                "%(app)s did not take the test event: %(problem)s",
                app=config.label, problem=problem), "danger")
        return self._notify(_("Pusher works"), _(
            "%(app)s accepted a test event on %(channel)s.", app=config.label, channel=channel),
            "success")

    def _client(self):
        self.ensure_one()
        token = self._secret("access_token")
        if not token:
            raise UserError(_("Set the access token of WhatsApp account %s first.", self.name))
        return CloudClient(
            token, phone_number_id=self.phone_number_id, waba_id=self.waba_id,
            base_url=self.graph_url, api_version=self.api_version)

    @api.model
    @ormcache()
    def _webhook_routes(self):
        """Every active account as the webhook controller needs it, read once per worker.

        Meta wants its answer in milliseconds and accounts rarely change:
        create, unlink and a write of a ROUTE_FIELDS value clear the cache,
        and Odoo's registry signaling clears it in the other workers too.
        Only the app secrets' ciphertext is kept.
        """
        accounts = self.sudo().with_context(active_test=True).search([])
        return tuple(WebhookRoute(account.id, account.company_id.id, account.phone_number_id or "",
                                  account.waba_id or "", account.app_secret_encrypted or "")
                     for account in accounts)

    @api.model
    def _webhook_route(self, raw_body, signature_header, phone_number_ids, waba_ids):
        """The route of the active account whose app secret verifies the signature, or None.

        The accounts the body names are tried first; any other may still have
        signed it (one Meta app serving several numbers). As _for_webhook and
        _signed, without a query.
        """
        routes = self._webhook_routes()
        named = [route for route in routes
                 if route.phone_number_id in phone_number_ids or route.waba_id in waba_ids]
        for route in named + [route for route in routes if route not in named]:
            if not route.app_secret_encrypted:
                continue
            try:
                secret = self._cipher().decrypt(route.app_secret_encrypted)
            except (CryptoError, UserError) as error:
                _logger.error("WhatsApp account %s cannot check webhooks: %s", route.id, error)
                continue
            if verify_signature(raw_body, signature_header, secret):
                return route
        return None

    @api.model
    def _for_webhook(self, phone_number_ids, waba_ids):
        """Accounts that may have sent a webhook, the likeliest first."""
        accounts = self.sudo().with_context(active_test=False)
        named = accounts.search([
            "|", ("phone_number_id", "in", phone_number_ids or []),
            ("waba_id", "in", waba_ids or [])])
        others = accounts.search([("id", "not in", named.ids), ("active", "=", True)])
        return named.filtered("active") | others

    def action_test_connection(self):
        self.ensure_one()
        try:
            info = self._client().get_phone_number()
        except (CloudApiError, ValueError) as error:
            return self._notify(_("Connection failed"), str(error), "danger")
        values = {}
        if info.get("display_phone_number"):
            values["display_phone_number"] = info["display_phone_number"]
        if values:
            self.write(values)
        self.sudo()._queue_resume()
        message = _("Connected to %(number)s (%(name)s), quality %(quality)s.",
                    number=info.get("display_phone_number") or self.phone_number_id,
                    name=info.get("verified_name") or "-",
                    quality=info.get("quality_rating") or "-")
        action = self._notify(_("Connection works"), message, "success")
        # Show what the test just wrote (the display number) in the open form.
        action["params"]["next"] = {"type": "ir.actions.client", "tag": "soft_reload"}
        return action

    @api.model_create_multi
    def create(self, vals_list):
        accounts = super().create(vals_list)
        self.env.registry.clear_cache()  # _webhook_routes
        # Every account starts with the seed templates, as drafts to submit.
        self.env["wa.template"].sudo()._seed_accounts(accounts)
        return accounts

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()  # _webhook_routes
        return result

    @api.model
    def _cron_sync_templates(self):
        """Daily: every active account's templates as Meta has them now."""
        for account in self.search([("waba_id", "!=", False)]):
            try:
                definitions = account._client().list_templates()
            except (CloudApiError, UserError, ValueError) as error:
                _logger.warning("WhatsApp account %s: template sync failed: %s", account.id, error)
                continue
            self.env["wa.template"]._sync_from_meta(account, definitions)

    def write(self, vals):
        result = super().write(vals)
        if ROUTE_FIELDS & set(vals):
            self.env.registry.clear_cache()  # _webhook_routes
        if vals.get("access_token_encrypted"):
            self.filtered("queue_paused")._queue_resume()
        return result

    # --- Queue pause / resume and the token health check ------------------------

    def _queue_pause(self, reason):
        """Stop sending for this account and tell its managers."""
        for account in self.filtered(lambda a: not a.queue_paused):
            account.write({"queue_paused": True, "queue_paused_reason": (reason or "")[:250]})
            _logger.warning("WhatsApp account %s: sending paused: %s", account.id, reason)
            account._warn_managers(
                _("WhatsApp sending is paused"),
                _("Meta refused the access token or a permission of %(name)s: %(reason)s. "
                  "Messages wait in the queue. Save a new access token (or fix the "
                  "permission and press Test Connection) to resume.",
                  name=account.name, reason=reason))

    def _queue_resume(self):
        paused = self.filtered("queue_paused")
        if not paused:
            return
        paused.write({"queue_paused": False, "queue_paused_reason": False})
        paused.sudo().activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_warning")
        ).action_feedback(feedback=_("Sending resumed."))
        self.env["wa.outbound.queue"]._wake()

    def _warn_managers(self, summary, note):
        """A warning activity for each manager of the account's company (once while open)."""
        self.ensure_one()
        managers = self.env.ref("campotech_whatsapp.group_wa_manager").users.filtered(
            lambda user: self.company_id in user.company_ids and not user.share
            and user.active and user.id != SUPERUSER_ID)
        activity_type = self.env.ref("mail.mail_activity_data_warning")
        open_for = self.activity_ids.filtered(
            lambda a: a.activity_type_id == activity_type and a.summary == summary).user_id
        for user in managers - open_for:
            self.sudo().activity_schedule(
                activity_type_id=activity_type.id, summary=summary, note=note, user_id=user.id)

    @api.model
    def _cron_check_tokens(self):
        """Daily: a cheap authenticated call per account, so a dead token is found
        before a customer message is refused; and a warning ahead of a known expiry."""
        today = fields.Date.context_today(self)
        for account in self.sudo().search([("access_token_encrypted", "!=", False)]):
            account._check_token(today)

    def _check_token(self, today=None):
        self.ensure_one()
        today = today or fields.Date.context_today(self)
        if self.token_expires_on and self.token_expires_on <= today + timedelta(days=7):
            self._warn_managers(
                _("WhatsApp access token expires soon"),
                _("The access token of %(name)s expires on %(date)s. Generate a new one and "
                  "save it, or sending stops.", name=self.name, date=self.token_expires_on))
        try:
            self._client().get_phone_number()
        except CloudApiError as error:
            if error.error_class is ErrorClass.ADMIN:
                self._queue_pause(str(error))
                return False
            _logger.info("WhatsApp account %s: token check inconclusive: %s", self.id, error)
            return None
        except UserError as error:
            _logger.info("WhatsApp account %s: token check skipped: %s", self.id, error)
            return None
        self.write({"token_checked_at": fields.Datetime.now()})
        self._queue_resume()
        return True

    def action_sync_templates(self):
        self.ensure_one()
        try:
            definitions = self._client().list_templates()
        except (CloudApiError, ValueError) as error:
            return self._notify(_("Template sync failed"), str(error), "danger")
        count = self.env["wa.template"]._sync_from_meta(self, definitions)
        return self._notify(_("Templates synchronised"),
                            _("%s templates read from Meta.", count), "success")

    def _notify(self, title, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": title, "message": message, "type": kind, "sticky": kind == "danger"},
        }

    def _for_change(self, change):
        """The account a webhook change signed with self's app secret belongs to.

        Another account qualifies only if it shares self's app secret (one Meta
        app serving several numbers): a secret never speaks for a number of
        another app, so one company cannot write into another's conversations.
        """
        self.ensure_one()
        if change.phone_number_id:
            if change.phone_number_id == self.phone_number_id:
                return self
            domain = [("phone_number_id", "=", change.phone_number_id)]
        elif not change.entry_id or change.entry_id == self.waba_id:
            return self  # template updates carry only the entry's WABA id
        else:
            domain = [("waba_id", "=", change.entry_id)]
        other = self.sudo().search(domain, limit=1)
        if other and other._secret("app_secret") == self._secret("app_secret"):
            return other
        return self.browse()

    @api.model
    def _answer_challenge(self, mode, token, challenge):
        """Meta's GET handshake against any account's verify token, or the global one."""
        expected = self.sudo().with_context(active_test=True).search(
            [("webhook_verify_token", "!=", False)]).mapped("webhook_verify_token")
        global_token = self.env["ir.config_parameter"].sudo().get_param(
            "campotech_whatsapp.webhook_verify_token")
        if global_token:
            expected.append(global_token)
        for candidate in expected:
            answer = verify_challenge(mode, token, challenge, candidate)
            if answer is not None:
                return answer
        return None
