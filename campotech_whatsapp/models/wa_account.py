import logging
import secrets

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import config

from ..cloud import constants as C
from ..cloud.client import CloudClient
from ..cloud.crypto import CryptoError, TokenCipher, load_keys
from ..cloud.errors import CloudApiError
from ..cloud.webhook import verify_challenge, verify_signature

_logger = logging.getLogger(__name__)

# What a secret field shows once it is set: never the secret, nor part of it.
SECRET_MASK = "••••••••"


class WaAccount(models.Model):
    _name = "wa.account"
    _description = "WhatsApp Business Account"
    _order = "company_id, id"

    name = fields.Char(required=True, default="WhatsApp")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, ondelete="cascade",
        default=lambda self: self.env.company)
    waba_id = fields.Char("WhatsApp Business Account ID", index=True)
    phone_number_id = fields.Char("Phone Number ID", index=True)
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

    conversation_ids = fields.One2many("wa.conversation", "account_id")
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

    @api.depends("access_token_encrypted", "app_secret_encrypted")
    def _compute_secrets_set(self):
        for account in self:
            stored = account.sudo()
            account.access_token_set = bool(stored.access_token_encrypted)
            account.app_secret_set = bool(stored.app_secret_encrypted)

    @api.depends("access_token_encrypted", "app_secret_encrypted")
    def _compute_secret_masks(self):
        for account in self:
            stored = account.sudo()
            account.access_token = SECRET_MASK if stored.access_token_encrypted else False
            account.app_secret = SECRET_MASK if stored.app_secret_encrypted else False

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
            for name in ("access_token_encrypted", "app_secret_encrypted"):
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

    def _client(self):
        self.ensure_one()
        token = self._secret("access_token")
        if not token:
            raise UserError(_("Set the access token of WhatsApp account %s first.", self.name))
        return CloudClient(
            token, phone_number_id=self.phone_number_id, waba_id=self.waba_id,
            base_url=self.graph_url, api_version=self.api_version)

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
        # Every account starts with the seed templates, as drafts to submit.
        self.env["wa.template"].sudo()._seed_accounts(accounts)
        return accounts

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
