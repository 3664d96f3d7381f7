"""GOV.UK Frontend's components, rendered once for each set of parameters (issue 22).

A component macro's output depends only on its parameters: no request, no session, no clock. A
select of 200 rules, rebuilt through the macro on every request, costs a page more than the rest
of it. ``component("govukSelect", params)`` renders the component's own macro, unchanged, and
keeps the markup for the next page that asks with equal parameters, so the HTML is the same byte
for byte. Parameters that cannot be told apart safely (anything but JSON's types and Markup) are
rendered every time.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any

import orjson
from flask_babel import LazyString
from jinja2 import Environment
from markupsafe import Markup

from workflows.words import AsWritten

# Distinct renderings kept per worker: every page's selects and radios with room to spare.
KEPT = 512
# Larger markup is not kept (a select of every catalogue entry is about 20 kB).
LARGEST_KEPT = 64 * 1024


class _Unsafe(TypeError):
    """A parameter that is not plain data."""


def _plain(value: Any) -> Any:
    if isinstance(value, Markup):  # html, not text: it must not share a key with the same str
        return {"__markup__": str(value)}
    if isinstance(value, LazyString):  # a form's label, in this request's language
        return str(value)
    if isinstance(value, AsWritten):  # data quoted as written: the same text as a str
        return str(value)
    raise _Unsafe(type(value).__name__)


def _key(name: str, params: Any) -> bytes | None:
    try:
        return name.encode() + b"\0" + orjson.dumps(params, default=_plain, option=orjson.OPT_PASSTHROUGH_SUBCLASS)
    except (_Unsafe, TypeError):
        return None


def _template_of(name: str) -> str:
    """govukSelect -> govuk_frontend_jinja/components/select/macro.html"""
    if not re.fullmatch(r"govuk[A-Z][A-Za-z]+", name):
        raise ValueError(f"{name!r} is not a GOV.UK Frontend component macro")
    folder = re.sub(r"(?<!^)([A-Z])", r"-\1", name.removeprefix("govuk")).lower()
    return f"govuk_frontend_jinja/components/{folder}/macro.html"


class Components:
    """The ``component`` global of the pages' Jinja environment."""

    def __init__(self, env: Environment, kept: int = KEPT) -> None:
        self.env = env
        self.kept = kept
        self.rendered: OrderedDict[bytes, Markup] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, name: str, params: dict[str, Any], *, keep: bool = True) -> Markup:
        """The component's markup; with ``keep=False`` (parameters holding what a person typed)
        rendered without being kept."""
        key = _key(name, params) if keep else None
        if key is not None:
            with self.lock:
                found = self.rendered.get(key)
                if found is not None:
                    self.rendered.move_to_end(key)
                    return found
        macro = getattr(self.env.get_template(_template_of(name)).module, name)
        markup = macro(params)
        if not isinstance(markup, Markup):  # the pages' environment escapes: its macros give Markup
            raise TypeError(f"{name} gave {type(markup).__name__}, not Markup")
        if key is not None and len(markup) <= LARGEST_KEPT:
            with self.lock:
                self.rendered[key] = markup
                while len(self.rendered) > self.kept:
                    self.rendered.popitem(last=False)
        return markup
