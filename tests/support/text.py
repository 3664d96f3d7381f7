"""The words a person reads on a page or in an e-mail, as blocks (a heading, a paragraph, a label,
a list item, a cell), and the forms a page holds, for tests that read the service's own wording
(tests/test_wording.py, tests/readability.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Each of these starts and ends a block of its own: a person reads it as a unit.
BLOCKS = frozenset(
    [
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "dt",
        "dd",
        "th",
        "td",
        "caption",
        "label",
        "legend",
        "button",
        "summary",
        "figcaption",
        "div",
        "option",
        "title",
        "span.govuk-caption-l",
        "span.govuk-caption-m",
        "span.govuk-caption-xl",
    ]
)
SKIPPED = frozenset({"script", "style", "template", "svg", "head"})
VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "source", "wbr"})


def _tidy(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    # Radio buttons and checkboxes: name -> the values offered, in order.
    choices: dict[str, list[str]] = field(default_factory=dict)
    checkboxes: set[str] = field(default_factory=set)
    text_inputs: list[tuple[str, str]] = field(default_factory=list)  # (name, type), textareas included
    # (name, value, words) of each submit button.
    buttons: list[tuple[str, str, str]] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self, root: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.root = root
        self.inside_root = root is None
        self.depth_in_root = 0
        self.skipping = 0
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, skipped, a block)
        self.blocks: list[str] = []
        self.buffer: list[str] = []
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.textarea: str | None = None
        self.select: str | None = None
        self.button: tuple[str, str] | None = None
        self.button_words: list[str] = []

    def flush(self) -> None:
        text = _tidy("".join(self.buffer))
        if text:
            self.blocks.append(text)
        self.buffer = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        classes = found.get("class", "").split()
        if not self.inside_root and tag == self.root:
            self.inside_root = True
        self._form_tag(tag, found)
        if tag in VOID:
            if tag == "br":
                self.buffer.append(" ")
            if tag == "input" and found.get("type") == "submit" and self.inside_root and not self.skipping:
                self.flush()
                self.blocks.append(_tidy(found.get("value", "")))
            return
        skip = tag in SKIPPED or "hidden" in found or "govuk-visually-hidden" in classes
        block = tag in BLOCKS or any(f"{tag}.{c}" in BLOCKS for c in classes)
        self.stack.append((tag, skip, block))
        if skip:
            self.skipping += 1
        if block:
            self.flush()

    def _form_tag(self, tag: str, found: dict[str, str]) -> None:
        if tag == "form":
            self.form = Form(found.get("action", ""), found.get("method", "get").lower())
            self.forms.append(self.form)
        if self.form is None:
            return
        name = found.get("name", "")
        kind = found.get("type", "text")
        if tag == "input" and name:
            if kind in ("radio", "checkbox"):
                self.form.choices.setdefault(name, []).append(found.get("value", "on"))
                if kind == "checkbox":
                    self.form.checkboxes.add(name)
                if "checked" in found:
                    self.form.fields[name] = found.get("value", "on")
            elif kind == "submit":
                self.form.buttons.append((name, found.get("value", ""), found.get("value", "")))
            elif kind != "file":
                self.form.fields[name] = found.get("value", "")
                if kind != "hidden":
                    self.form.text_inputs.append((name, kind))
        elif tag == "textarea" and name:
            self.textarea = name
            self.form.fields[name] = ""
            self.form.text_inputs.append((name, "textarea"))
        elif tag == "select" and name:
            self.select = name
            self.form.fields.setdefault(name, "")
        elif tag == "option" and self.select:
            self.form.choices.setdefault(self.select, []).append(found.get("value", ""))
            if "selected" in found:
                self.form.fields[self.select] = found.get("value", "")
        elif tag == "button" and found.get("type", "submit") == "submit":
            self.button = (name, found.get("value", ""))
            self.button_words = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None
        elif tag == "button" and self.button is not None and self.form is not None:
            self.form.buttons.append((*self.button, _tidy("".join(self.button_words))))
            self.button = None
        if tag in VOID:
            return
        block = False
        while self.stack:
            open_tag, skip, block = self.stack.pop()
            if skip:
                self.skipping -= 1
            if open_tag == tag:
                break
        if block:
            self.flush()
        if self.root is not None and tag == self.root:
            self.flush()
            self.inside_root = False

    def handle_data(self, data: str) -> None:
        if self.textarea and self.form is not None:
            self.form.fields[self.textarea] += data
            return
        if self.button is not None:
            self.button_words.append(data)
        if self.inside_root and not self.skipping:
            self.buffer.append(data)


def read(html: str, root: str | None = "main") -> tuple[list[str], list[Form]]:
    reader = _Reader(root)
    reader.feed(html)
    reader.close()
    reader.flush()
    return [b for b in reader.blocks if b], reader.forms


def blocks_of_page(html: str) -> list[str]:
    """The words of a page's main part, block by block."""
    return read(html)[0]


def forms_of(html: str) -> list[Form]:
    return read(html, root=None)[1]


def blocks_of_mail(subject: str, text: str) -> list[str]:
    """An e-mail's subject, then each line of its plain text (a line is a paragraph, a list item or
    a link in these messages)."""
    return [_tidy(subject), *(_tidy(line) for line in text.splitlines() if line.strip())]


URL = re.compile(r"\bhttps?://\S+")


def without_addresses(block: str) -> str:
    """A block with its web addresses taken out: an address is not prose."""
    return _tidy(URL.sub("", block))
