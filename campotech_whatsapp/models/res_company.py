from odoo import api, fields, models
from odoo.addons.base.models.res_partner import _tz_get

from ..cloud import quiet_hours


def _template_field(event_label):
    return fields.Many2one(
        "wa.template", "%s Template" % event_label, ondelete="set null",
        help="Empty: the account's template with the standard name.")


class ResCompany(models.Model):
    _inherit = "res.company"

    wa_account_ids = fields.One2many("wa.account", "company_id")
    wa_account_id = fields.Many2one(
        "wa.account", "WhatsApp Account", compute="_compute_wa_account_id")
    wa_reopen_template_id = fields.Many2one(
        "wa.template", "WhatsApp Reopen Template",
        domain="[('company_id', '=', id), ('status', '=', 'approved')]",
        help="Offered (or sent) when a message cannot go because the customer's 24 h window "
             "is closed; the held messages follow once the customer answers.")
    wa_reopen_auto = fields.Boolean(
        "Send Reopen Template Automatically",
        help="Send the reopen template as soon as a message is held by a closed window.")

    @api.depends("wa_account_ids")
    def _compute_wa_account_id(self):
        for company in self:
            company.wa_account_id = company.with_context(active_test=False).wa_account_ids[:1]

    # Automated notifications: one switch and one template per event.
    wa_notify_job_scheduled = fields.Boolean("WhatsApp: Job Scheduled", default=True)
    wa_template_job_scheduled_id = _template_field("Job Scheduled")
    wa_notify_technician_assigned = fields.Boolean("WhatsApp: Technician Assigned", default=True)
    wa_template_technician_assigned_id = _template_field("Technician Assigned")
    wa_notify_job_completed = fields.Boolean("WhatsApp: Job Completed", default=True)
    wa_template_job_completed_id = _template_field("Job Completed")
    wa_notify_invoice_ready = fields.Boolean("WhatsApp: Invoice Ready", default=True)
    wa_template_invoice_ready_id = _template_field("Invoice Ready")
    wa_notify_payment_received = fields.Boolean("WhatsApp: Payment Received", default=True)
    wa_template_payment_received_id = _template_field("Payment Received")
    wa_rating_request = fields.Boolean(
        "WhatsApp: Ask for a Rating", default=True,
        help="After a completed job, ask the customer to rate it from 1 to 5.")
    wa_quiet_hours = fields.Boolean("WhatsApp Quiet Hours", default=True)
    wa_quiet_start = fields.Float("Quiet Hours From", default=quiet_hours.DEFAULT_START)
    wa_quiet_end = fields.Float("Quiet Hours Until", default=quiet_hours.DEFAULT_END)
    wa_quiet_tz = fields.Selection(
        _tz_get, "Quiet Hours Time Zone", default=quiet_hours.DEFAULT_TZ,
        help="Used when the customer's own time zone is not known.")
    wa_confirm_tag_id = fields.Many2one(
        "project.tags", "Tag for Confirmed Visits",
        help="Added to the job when the customer taps Confirmar.")
    wa_confirm_stage_id = fields.Many2one(
        "project.task.type", "Stage for Confirmed Visits",
        help="The job moves to this stage when the customer taps Confirmar "
             "(if its project uses the stage).")
    wa_stop_words = fields.Char(
        "Opt-out Words", help="Comma separated. Empty: BAJA, STOP, NO MAS, CANCELAR SUSCRIPCION, UNSUBSCRIBE.")
    wa_start_words = fields.Char("Opt-in Words", help="Comma separated. Empty: ALTA, START.")
