"""Message templates: their variables, the send-time parameters, a preview.

A template definition is Meta's JSON as GET /{waba-id}/message_templates
returns it. From it we know every variable the template needs, so a send
with a missing, extra or wrongly typed value is refused here, with the
variables named, instead of coming back from Meta as error 132000.

Values are given as a mapping from ``Variable.key`` to a value:

* body variables: their name, ``"1"``, ``"2"`` or ``"customer_name"``;
* a text header variable: ``"header.1"`` in positional templates (the header
  numbers its own ``{{1}}``), its name in named templates;
* a media or location header: ``"header"``;
* a button: ``"button.<index>"`` (URL suffix, copy-code coupon, or the
  optional payload of a quick-reply button).

A value is a str or number (a text parameter), or a Currency, DateTime,
Media or Location.
"""

# One module per concern (the definition and its variables, values, send-time
# parameters, the preview, review checks); every name importers use stays
# importable from ``cloud.templates``.
from .definition import PLACEHOLDER, Template, Variable, placeholders
from .parameters import build_components
from .preview import placeholder_context, render
from .validation import validate_definition
from .values import Currency, DateTime, Location, Media, clean_param

__all__ = [
    "PLACEHOLDER", "Currency", "DateTime", "Location", "Media", "Template", "Variable",
    "build_components", "clean_param", "placeholder_context", "placeholders", "render",
    "validate_definition",
]
