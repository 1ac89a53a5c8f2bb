"""A template definition as Meta returns it, and the variables it needs."""

import re
from dataclasses import dataclass, field

from ..errors import PayloadError

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_MEDIA_HEADERS = ("image", "video", "document")


def placeholders(text):
    """Variable names in text, in order of first appearance, each once."""
    names = []
    for match in PLACEHOLDER.finditer(text or ""):
        if match.group(1) not in names:
            names.append(match.group(1))
    return names


@dataclass(frozen=True)
class Variable:
    """One value a template needs when it is sent.

    component: 'header', 'body' or 'button'; index: the button's index;
    name: "1", "2"… or the named key ("header" for media headers);
    kind: 'text', 'image', 'video', 'document', 'location' or 'coupon_code';
    key: where build_components looks for its value.
    """
    component: str
    index: int
    name: str
    kind: str
    key: str


def _upper(value):
    return value.upper() if isinstance(value, str) else value


@dataclass
class Template:
    name: str
    language: str
    status: str = ""
    category: str = ""
    parameter_format: str = "POSITIONAL"
    header_format: str = None  # lower case: 'text', 'image', …; None without header
    components: list = field(default_factory=list)
    id: str = None

    @classmethod
    def from_definition(cls, definition):
        if not isinstance(definition, dict):
            raise PayloadError("template definition must be a dict, got %s"
                               % type(definition).__name__)
        if not definition.get("name"):
            raise PayloadError("template definition has no name")
        language = definition.get("language") or ""
        if isinstance(language, dict):
            language = language.get("code") or ""
        components = []
        for comp in definition.get("components") or []:
            if not isinstance(comp, dict):
                continue
            comp = dict(comp, type=_upper(comp.get("type")))
            if comp["type"] == "BUTTONS":
                comp["buttons"] = [dict(b, type=_upper(b.get("type")))
                                   for b in comp.get("buttons") or [] if isinstance(b, dict)]
            components.append(comp)
        tpl = cls(
            name=definition["name"],
            language=language,
            status=(definition.get("status") or "").lower(),
            category=(definition.get("category") or "").lower(),
            components=components,
            id=definition.get("id"),
        )
        header = tpl.component("HEADER")
        if header is not None:
            tpl.header_format = (header.get("format") or "TEXT").lower()
        fmt = _upper(definition.get("parameter_format"))
        if not fmt:
            texts = [tpl.header_text, tpl.body_text]
            named = any(not n.isdigit() for t in texts for n in placeholders(t))
            fmt = "NAMED" if named else "POSITIONAL"
        tpl.parameter_format = fmt
        return tpl

    @property
    def named(self):
        return self.parameter_format == "NAMED"

    def component(self, type_):
        for comp in self.components:
            if comp.get("type") == type_:
                return comp
        return None

    def _text(self, type_):
        comp = self.component(type_)
        return (comp or {}).get("text") or ""

    @property
    def header_text(self):
        return self._text("HEADER") if self.header_format == "text" else ""

    @property
    def body_text(self):
        return self._text("BODY")

    @property
    def footer_text(self):
        return self._text("FOOTER")

    @property
    def buttons(self):
        return (self.component("BUTTONS") or {}).get("buttons") or []

    def _ordered(self, names):
        if self.named:
            return names
        return sorted(names, key=lambda n: (0, int(n)) if n.isdigit() else (1, names.index(n)))

    def header_key(self, name):
        return name if self.named else "header." + name

    def variables(self):
        """Every value a send needs, header first, then body, then buttons."""
        out = []
        if self.header_format == "text":
            out += [Variable("header", None, n, "text", self.header_key(n))
                    for n in self._ordered(placeholders(self.header_text))]
        elif self.header_format in _MEDIA_HEADERS + ("location",):
            out.append(Variable("header", None, "header", self.header_format, "header"))
        out += [Variable("body", None, n, "text", n)
                for n in self._ordered(placeholders(self.body_text))]
        for i, button in enumerate(self.buttons):
            key = "button.%d" % i
            if button.get("type") == "URL":
                names = placeholders(button.get("url"))
                if names:
                    out.append(Variable("button", i, names[0], "text", key))
            elif button.get("type") == "OTP":
                out.append(Variable("button", i, "1", "text", key))
            elif button.get("type") == "COPY_CODE":
                out.append(Variable("button", i, "coupon_code", "coupon_code", key))
        return out

    def optional_keys(self):
        """Keys that may carry a value but need none: quick-reply payloads."""
        return ["button.%d" % i for i, b in enumerate(self.buttons)
                if b.get("type") == "QUICK_REPLY"]


def _as_template(template):
    return template if isinstance(template, Template) else Template.from_definition(template)
