"""A local Meta WhatsApp Cloud API, for development, demos and tests.

No Meta account needed: it answers the Graph API calls the client makes
(messages, media, templates, phone number), enforces the 24 h window,
throughput and template rules with Meta's error codes, and delivers signed
webhooks (statuses, customer messages of every type, template reviews) to a
URL of your choice. Control it from Python (``Simulator``), over HTTP
(``/_sim/...``) or from the command line::

    python -m campotech_whatsapp.cloud.simulator serve --help
"""

from .server import DEFAULTS, Simulator, is_loopback
from .state import SimClock

__all__ = ["DEFAULTS", "SimClock", "Simulator", "is_loopback"]
