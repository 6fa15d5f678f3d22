"""Compile one translation catalogue (.po) into the binary form Django reads (.mo).

    python scripts/compile_messages.py locale/nl/LC_MESSAGES/django.po locale/nl/LC_MESSAGES/django.mo

polib does what GNU msgfmt does, so running the app needs no system gettext; refuses a
catalogue with fuzzy entries, which Django would silently ignore.
"""

from __future__ import annotations

import sys

import polib


def main(source: str, target: str) -> int:
    catalogue = polib.pofile(source)
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    if fuzzy:
        print(f"{source}: fuzzy translations to check: {fuzzy[:5]}", file=sys.stderr)
        return 1
    catalogue.save_as_mofile(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
