"""Submit a page's form the way a browser would: every field's current value (hidden, typed,
checked, selected), with some changed, plus the button pressed."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, marker: str | None):
        super().__init__(convert_charrefs=True)
        self.marker = marker
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._option_value: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (self.marker is None or self.marker in attrs.values()):
            self.inside = True
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value", "on")))
            elif kind not in ("submit", "button"):
                self.fields.append((name, attrs.get("value") or ""))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in attrs:
                self.fields.append((self._select, value))
                self._select_chosen = True

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select" and self._select:
            if not self._select_chosen and self._select_first is not None:
                self.fields.append((self._select, self._select_first))
            self._select = None


def form_fields(html: str, marker: str | None = None) -> list[tuple[str, str]]:
    """(name, value) pairs of the first form (or the one with an attribute equal to ``marker``)."""
    reader = _FormReader(marker)
    reader.feed(html)
    return reader.fields


def submit(client, url: str, html: str, changes: dict | None = None, *, marker: str | None = None, **extra):
    """POST the form found in ``html`` to ``url`` with ``changes`` applied (a list value sets a
    multi-valued field such as checkboxes), plus ``extra`` fields (the button pressed)."""
    changes = {**(changes or {}), **extra}
    data = [(name, value) for name, value in form_fields(html, marker) if name not in changes]
    for name, value in changes.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            data.append((name, str(item)))
    from werkzeug.datastructures import MultiDict

    return client.post(url, data=MultiDict(data))
