from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..cloud import broadcast
from ..cloud import constants as C
from .wa_account import SECRETS

# Settings field -> wa.account field, for the current company's account.
ACCOUNT_FIELDS = {
    "wa_account_name": "name",
    "wa_waba_id": "waba_id",
    "wa_phone_number_id": "phone_number_id",
    "wa_app_id": "app_id",
    "wa_display_phone_number": "display_phone_number",
    "wa_api_version": "api_version",
    "wa_graph_url": "graph_url",
    "wa_throughput_mps": "throughput_mps",
    "wa_webhook_verify_token": "webhook_verify_token",
    "wa_pusher_enabled": "pusher_enabled",
    "wa_pusher_app_id": "pusher_app_id",
    "wa_pusher_key": "pusher_key",
    "wa_pusher_cluster": "pusher_cluster",
    "wa_pusher_host": "pusher_host",
    "wa_pusher_port": "pusher_port",
    "wa_pusher_ssl": "pusher_ssl",
    "wa_pusher_private": "pusher_private",
}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    wa_account_id = fields.Many2one("wa.account", "WhatsApp Account", compute="_compute_wa_account_id")
    wa_account_name = fields.Char("WhatsApp Account Name")
    wa_waba_id = fields.Char("WhatsApp Business Account ID")
    wa_phone_number_id = fields.Char("Phone Number ID")
    wa_app_id = fields.Char("Meta App ID")
    wa_display_phone_number = fields.Char("Display Phone Number")
    wa_api_version = fields.Char("Graph API Version")
    wa_graph_url = fields.Char("Graph URL")
    wa_throughput_mps = fields.Integer("Messages per Second")
    wa_webhook_verify_token = fields.Char("Webhook Verify Token")
    # Write-only: what is typed is encrypted at once and only the ciphertext
    # waits in this transient record for set_values; nothing reads it back.
    wa_access_token = fields.Char(
        "New Access Token", compute="_compute_wa_new_secrets", inverse="_inverse_wa_access_token")
    wa_app_secret = fields.Char(
        "New App Secret", compute="_compute_wa_new_secrets", inverse="_inverse_wa_app_secret")
    wa_access_token_encrypted = fields.Char("New Access Token (encrypted)", groups="base.group_system")
    wa_app_secret_encrypted = fields.Char("New App Secret (encrypted)", groups="base.group_system")
    wa_pusher_secret = fields.Char(
        "New Pusher Secret", compute="_compute_wa_new_secrets", inverse="_inverse_wa_pusher_secret")
    wa_pusher_secret_encrypted = fields.Char("New Pusher Secret (encrypted)", groups="base.group_system")
    wa_pusher_secret_set = fields.Boolean("Pusher Secret Stored", compute="_compute_wa_account_id")
    wa_pusher_enabled = fields.Boolean("Broadcast to Pusher")
    wa_pusher_app_id = fields.Char("Pusher App ID")
    wa_pusher_key = fields.Char("Pusher Key")
    wa_pusher_cluster = fields.Char("Pusher Cluster")
    wa_pusher_host = fields.Char("Pusher Host")
    wa_pusher_port = fields.Integer("Pusher Port")
    wa_pusher_ssl = fields.Boolean("Pusher over HTTPS")
    wa_pusher_private = fields.Boolean("Private Pusher Channels")
    wa_pusher_available = fields.Boolean("Pusher Package Installed", compute="_compute_wa_account_id")
    wa_access_token_set = fields.Boolean("Access Token Stored", compute="_compute_wa_account_id")
    wa_app_secret_set = fields.Boolean("App Secret Stored", compute="_compute_wa_account_id")
    wa_webhook_url = fields.Char("Webhook URL", compute="_compute_wa_account_id")
    wa_reopen_template_id = fields.Many2one(
        related="company_id.wa_reopen_template_id", readonly=False)
    wa_reopen_auto = fields.Boolean(related="company_id.wa_reopen_auto", readonly=False)
    wa_log_retention_days = fields.Integer(
        "Keep Webhook Logs (days)", config_parameter="campotech_whatsapp.webhook_log_retention_days",
        default=30)

    wa_notify_job_scheduled = fields.Boolean(related="company_id.wa_notify_job_scheduled", readonly=False)
    wa_template_job_scheduled_id = fields.Many2one(
        related="company_id.wa_template_job_scheduled_id", readonly=False)
    wa_notify_technician_assigned = fields.Boolean(
        related="company_id.wa_notify_technician_assigned", readonly=False)
    wa_template_technician_assigned_id = fields.Many2one(
        related="company_id.wa_template_technician_assigned_id", readonly=False)
    wa_notify_job_completed = fields.Boolean(related="company_id.wa_notify_job_completed", readonly=False)
    wa_template_job_completed_id = fields.Many2one(
        related="company_id.wa_template_job_completed_id", readonly=False)
    wa_notify_invoice_ready = fields.Boolean(related="company_id.wa_notify_invoice_ready", readonly=False)
    wa_template_invoice_ready_id = fields.Many2one(
        related="company_id.wa_template_invoice_ready_id", readonly=False)
    wa_notify_payment_received = fields.Boolean(
        related="company_id.wa_notify_payment_received", readonly=False)
    wa_template_payment_received_id = fields.Many2one(
        related="company_id.wa_template_payment_received_id", readonly=False)
    wa_rating_request = fields.Boolean(related="company_id.wa_rating_request", readonly=False)
    wa_quiet_hours = fields.Boolean(related="company_id.wa_quiet_hours", readonly=False)
    wa_quiet_start = fields.Float(related="company_id.wa_quiet_start", readonly=False)
    wa_quiet_end = fields.Float(related="company_id.wa_quiet_end", readonly=False)
    wa_quiet_tz = fields.Selection(related="company_id.wa_quiet_tz", readonly=False)
    wa_confirm_tag_id = fields.Many2one(related="company_id.wa_confirm_tag_id", readonly=False)
    wa_confirm_stage_id = fields.Many2one(related="company_id.wa_confirm_stage_id", readonly=False)
    wa_stop_words = fields.Char(related="company_id.wa_stop_words", readonly=False)
    wa_start_words = fields.Char(related="company_id.wa_start_words", readonly=False)

    @api.depends("company_id")
    def _compute_wa_account_id(self):
        for settings in self:
            account = settings.company_id.wa_account_id
            settings.wa_account_id = account
            for secret in SECRETS:
                settings["wa_%s_set" % secret] = account[secret + "_set"]
            settings.wa_pusher_available = broadcast.available()
            settings.wa_webhook_url = account.webhook_url or self.env["wa.account"].new({}).webhook_url

    def _compute_wa_new_secrets(self):
        self.wa_access_token = False
        self.wa_app_secret = False
        self.wa_pusher_secret = False

    def _inverse_wa_access_token(self):
        self._wa_encrypt_new_secret("wa_access_token")

    def _inverse_wa_app_secret(self):
        self._wa_encrypt_new_secret("wa_app_secret")

    def _inverse_wa_pusher_secret(self):
        self._wa_encrypt_new_secret("wa_pusher_secret")

    def _wa_encrypt_new_secret(self, name):
        cipher = self.env["wa.account"]._cipher()
        for settings in self:
            value = (settings[name] or "").strip()
            settings[name + "_encrypted"] = cipher.encrypt(value) if value else False
        self.invalidate_recordset([name])

    @api.model
    def get_values(self):
        values = super().get_values()
        account = self.env.company.wa_account_id.sudo()
        defaults = {"wa_account_name": "WhatsApp", "wa_api_version": C.DEFAULT_API_VERSION,
                    "wa_graph_url": C.GRAPH_URL, "wa_throughput_mps": C.DEFAULT_MPS,
                    "wa_pusher_ssl": True}
        for setting, field in ACCOUNT_FIELDS.items():
            values[setting] = account[field] if account else defaults.get(setting, False)
        return values

    def set_values(self):
        result = super().set_values()
        account_values = {field: self[setting] for setting, field in ACCOUNT_FIELDS.items()
                          if self[setting] or field != "webhook_verify_token"}
        for secret in SECRETS:
            if self["wa_%s_encrypted" % secret]:  # already ciphertext: copied as is
                account_values[secret + "_encrypted"] = self["wa_%s_encrypted" % secret]
        account = self.company_id.wa_account_id.sudo()
        if account:
            changed = {k: v for k, v in account_values.items() if account[k] != v}
            if changed:
                account.write(changed)
        elif self.wa_phone_number_id or self.wa_waba_id or self.wa_access_token_encrypted:
            account_values["company_id"] = self.company_id.id
            self.env["wa.account"].sudo().create(account_values)
        # The ciphertext is not needed here any more.
        self.write({"wa_%s_encrypted" % secret: False for secret in SECRETS})
        return result

    def _wa_account_or_error(self):
        account = self.company_id.wa_account_id
        if not account:
            raise UserError(_("Save the WhatsApp settings first."))
        return account

    def action_wa_test_connection(self):
        self.execute()
        return self._wa_account_or_error().action_test_connection()

    def action_wa_sync_templates(self):
        self.execute()
        return self._wa_account_or_error().action_sync_templates()

    def action_wa_test_pusher(self):
        self.execute()
        return self._wa_account_or_error().action_test_pusher()

    def action_wa_open_account(self):
        self.execute()
        account = self._wa_account_or_error()
        return {"type": "ir.actions.act_window", "res_model": "wa.account",
                "res_id": account.id, "view_mode": "form"}
