"""Drop the webhook-log purge cron of databases installed before 18.0.1.1.0.

The purge now runs in Odoo's daily autovacuum (wa.webhook.log._gc_processed_logs).
The cron was a noupdate record, which an upgrade never deletes by itself: left
alone it would keep calling a method that no longer exists.
"""

import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref("campotech_whatsapp.ir_cron_wa_webhook_purge", raise_if_not_found=False)
    if cron:
        action = cron.ir_actions_server_id
        cron.unlink()
        action.exists().unlink()
        _logger.info("campotech_whatsapp: removed the webhook log purge cron (now an autovacuum)")
