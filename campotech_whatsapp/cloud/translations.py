"""The addon's translations of the few texts the engine writes itself.

The engine writes a preview for messages that carry no text of their own
("Unsupported message", "Form sent", ...). Their source is English, as
everywhere in Odoo, and their Spanish lives where every other UI string's
does: the addon's ``i18n/<lang>.po``. Inside Odoo the addon translates them
with Odoo's own machinery; the engine alone (tests, simulator, benchmarks)
reads the same files here.
"""

import ast
import functools
import pathlib

I18N = pathlib.Path(__file__).resolve().parent.parent / "i18n"
# CampoTech works in Argentine Spanish: the engine's texts default to it.
DEFAULT_LANG = "es_AR"


def _unquote(text):
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return ""
    return value if isinstance(value, str) else ""


def parse_po(text):
    """{msgid: msgstr} of a .po file's translated singular entries."""
    entries, key, parts = {}, None, {}

    def flush():
        msgid, msgstr = "".join(parts.get("msgid", [])), "".join(parts.get("msgstr", []))
        if msgid and msgstr:
            entries[msgid] = msgstr

    for line in text.splitlines():
        line = line.strip()
        if line.startswith("msgid "):
            flush()
            key, parts = "msgid", {"msgid": [_unquote(line[6:])]}
        elif line.startswith("msgstr "):
            key = "msgstr"
            parts["msgstr"] = [_unquote(line[7:])]
        elif line.startswith('"') and key:
            parts[key].append(_unquote(line))
        elif line.startswith(("msgid_plural", "msgstr[", "msgctxt")):
            key, parts = None, {}  # plural and context entries: none of the engine's
        elif not line or line.startswith("#"):
            flush()
            key, parts = None, {}
    flush()
    return entries


@functools.lru_cache(maxsize=8)
def catalogue(lang):
    """The translations of the addon's ``<lang>.po``; {} for English or a missing file."""
    if not lang or lang == "en_US":
        return {}
    try:
        return parse_po((I18N / ("%s.po" % lang)).read_text("utf-8"))
    except (OSError, UnicodeDecodeError):
        return {}


def translator(lang=DEFAULT_LANG):
    """A function turning one of the engine's English texts into ``lang``."""
    table = catalogue(lang)
    return lambda source: table.get(source) or source
