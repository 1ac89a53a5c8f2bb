# Odoo loads this package as odoo.addons.campotech_whatsapp. The engine
# (cloud/) is also imported without Odoo, as plain campotech_whatsapp, by its
# tests, the simulator and the benchmarks: only then are the Odoo parts skipped.
if __name__.startswith("odoo.addons."):
    from . import controllers, models, wizard
