"""Reading an admin page's form back, so a test can post it as a browser would."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _FormParser(HTMLParser):
    def __init__(self, form_id: str | None) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = form_id is None
        self.data: dict[str, Any] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._multiple = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.form_id is not None:
            self.inside = a.get("id") == self.form_id
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.data[name] = a.get("value", "on")
                return
            self.data[name] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""
        elif tag == "select" and name:
            self._select = name
            self._multiple = "multiple" in a
            if not self._multiple:
                self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            if self._multiple:
                self.data.setdefault(self._select, []).append(a.get("value", ""))
            else:
                self.data[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form" and self.form_id is not None:
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data


def form_data(html: str, form_id: str | None = None) -> dict[str, Any]:
    """The values a browser would submit from the form (the first matching ``form_id``, or all inputs)."""
    parser = _FormParser(form_id)
    parser.feed(html)
    return parser.data
