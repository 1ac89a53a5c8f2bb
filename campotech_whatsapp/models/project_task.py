from odoo import fields, models

from ..cloud import notifications as N


class ProjectTask(models.Model):
    _name = "project.task"
    _inherit = ["project.task", "wa.record.mixin"]

    def _wa_job_date_field(self):
        """The visit's date: Enterprise's planning start when installed, else the deadline."""
        return "planned_date_begin" if "planned_date_begin" in self._fields else "date_deadline"

    def _wa_notify_event(self, event):
        handlers = {N.JOB_SCHEDULED: self.on_job_scheduled, N.JOB_COMPLETED: self.on_job_completed,
                    N.TECHNICIAN_ASSIGNED: lambda: self.on_technician_assigned(self.user_ids)}
        if event in handlers:
            handlers[event]()

    def _wa_notify(self, event, **kwargs):
        return self.env["wa.notification"]._notify(self, event, **kwargs)

    def on_job_scheduled(self):
        """Tell the customer the visit's date (once per date)."""
        date_field = self._wa_job_date_field()
        for task in self.filtered(lambda t: t.partner_id and t[date_field]):
            task._wa_notify(N.JOB_SCHEDULED, marker=fields.Datetime.to_string(task[date_field]))

    def on_technician_assigned(self, user):
        """Tell the customer who is coming (once per technician)."""
        for task in self.filtered("partner_id"):
            for technician in user:
                task._wa_notify(N.TECHNICIAN_ASSIGNED, marker="u%s" % technician.id,
                                values={"tech_name": technician.name})

    def on_job_completed(self):
        """Tell the customer the job is done, then ask them to rate it."""
        for task in self.filtered("partner_id"):
            entry = task._wa_notify(N.JOB_COMPLETED, marker="1_done")
            if entry and entry.state == "queued":
                self.env["wa.notification"]._ask_rating(task)
