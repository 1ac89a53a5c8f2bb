"""Keep the payload of every webhook log stored before 18.0.1.1.0.

Processing now reads the raw bytes from ``payload_raw`` (base64 in a bytea
column, as Odoo keeps binaries). Older logs only have the text column, which
held the body as UTF-8 text: its UTF-8 bytes are the body Meta sent.
"""

import logging

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    # PostgreSQL's base64 breaks lines every 76 characters; Odoo's does not.
    cr.execute(r"""
        UPDATE wa_webhook_log
           SET payload_raw = convert_to(
                   translate(encode(convert_to(payload, 'UTF8'), 'base64'), E'\n', ''), 'UTF8')
         WHERE payload_raw IS NULL AND payload IS NOT NULL AND payload != ''
    """)
    _logger.info("campotech_whatsapp: kept the raw payload of %s webhook logs", cr.rowcount)
