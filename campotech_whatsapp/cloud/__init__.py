"""The WhatsApp Cloud API engine: pure Python, no Odoo.

Imported as ``odoo.addons.campotech_whatsapp.cloud`` by the addon and as
``campotech_whatsapp.cloud`` by the engine tests, the simulator and the
benchmarks; every import inside it is relative for that reason.
"""
