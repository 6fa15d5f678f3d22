"""What a user reads on a page, for tests that check words rather than markup."""

from __future__ import annotations

from html.parser import HTMLParser


class PageText(HTMLParser):
    """What a user reads on a page: its text, the attributes browsers show or read
    aloud, the buttons; and its links, title and heading."""

    SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
    # Not read as words: scripts, and names as a file or program writes them (the
    # Export page names each column's header in the file so).
    SKIPPED = ("script", "style", "template", "code")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []
        self.title = ""
        self.headings: list[str] = []
        self._skip = 0
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in self.SKIPPED:
            self._skip += 1
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag in ("title", "h1"):
            self._in = tag
            if tag == "h1":
                self.headings.append("")
        for name in self.SHOWN_ATTRIBUTES:
            if attributes.get(name) and not self._boolean_icon(tag, attributes):
                self.parts.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button"):
            self.parts.append(attributes.get("value") or "")

    @staticmethod
    def _boolean_icon(tag: str, attributes: dict) -> bool:
        # Django writes the alt of its yes/no icons ("True", "False") in code, not in
        # a template or a catalogue; left to Django.
        return tag == "img" and "/admin/img/icon-" in (attributes.get("src") or "")

    def handle_endtag(self, tag):
        if tag in self.SKIPPED:
            self._skip -= 1
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._skip:
            return
        self.parts.append(data)
        if self._in == "title":
            self.title += data
        elif self._in == "h1":
            self.headings[-1] += data

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def page_text(response) -> str:
    """The text of a page as a user reads it, in one line."""
    page = PageText()
    page.feed(response.content.decode())
    return page.text
