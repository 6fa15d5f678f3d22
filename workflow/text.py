"""Which characters free text may hold: the fields of governed records and the
comments of workflow decisions alike.

Refused, each with a sentence naming the character and where it is:

- control characters other than tab, line feed and carriage return (C0, DEL, C1).
  PostgreSQL cannot store NUL at all (the write would fail with a server error), and
  the others are invisible junk, mostly from a file read in the wrong encoding;
- unpaired surrogates, which cannot be written as UTF-8;
- the bidirectional embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069.
  They make text display in another order than it is stored ("Trojan Source"), so an
  approver could read a name or a number other than the one that is written. The
  invisible marks that shape right-to-left and joined scripts (U+200E, U+200F, U+200C,
  U+200D) are letters' business and stay allowed.

Tab and line breaks stay: spreadsheets hold them in cells, Dynamics 365's street is
multi-line, and the export writes them so that the import reads them back.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from .exceptions import WorkflowError

TEXT_CONTROL_CHARACTER = _(
    "This text contains the control character %(character)s at position "
    "%(position)s, which cannot be stored. Remove it and try again."
)
TEXT_DIRECTION_CONTROL = _(
    "This text contains the invisible direction control %(character)s at position "
    "%(position)s, which makes text appear in another order than it is stored. "
    "Remove it and try again."
)
COMMENT_CONTROL_CHARACTER = _(
    "The comment contains the control character %(character)s at position "
    "%(position)s, which cannot be stored. Remove it and try again."
)
COMMENT_DIRECTION_CONTROL = _(
    "The comment contains the invisible direction control %(character)s at position "
    "%(position)s, which makes text appear in another order than it is stored. "
    "Remove it and try again."
)
COMMENT_TOO_LONG = _(
    "A comment can have at most %(limit)s characters; this one has %(length)s. "
    "Shorten it and try again."
)

COMMENT_MAX_LENGTH = 2000

DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# One search in C instead of a loop per character: an import checks millions of cells.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# Unicode gives the C0 controls and DEL no names; these are their usual abbreviations.
_CONTROL_NAMES = (
    "NUL SOH STX ETX EOT ENQ ACK BEL BS HT LF VT FF CR SO SI "
    "DLE DC1 DC2 DC3 DC4 NAK SYN ETB CAN EM SUB ESC FS GS RS US"
).split()


class InvalidComment(WorkflowError):
    pass


def character_label(character: str) -> str:
    """How a message names a character nobody can see: "U+202E RIGHT-TO-LEFT OVERRIDE"."""
    code = ord(character)
    if code < len(_CONTROL_NAMES):
        name = _CONTROL_NAMES[code]
    elif code == 0x7F:
        name = "DEL"
    else:
        name = unicodedata.name(character, "")
    return f"U+{code:04X} {name}".rstrip()


def forbidden_character(text: str) -> tuple[int, str] | None:
    """The first character `text` may not hold, with its position (from 1), or None."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return None
    return found.start() + 1, found.group()


def validate_text(value: object) -> None:
    """Field validator: refuses the characters listed in this module's docstring."""
    if not isinstance(value, str):
        return
    found = forbidden_character(value)
    if found is None:
        return
    position, character = found
    raise ValidationError(
        TEXT_DIRECTION_CONTROL
        if character in DIRECTION_CONTROLS
        else TEXT_CONTROL_CHARACTER,
        code="forbidden_character",
        params={"character": character_label(character), "position": position},
    )


def clean_comment(comment: str | None) -> str:
    """The comment of a workflow decision as it is stored, or InvalidComment.

    Line breaks become line feeds before the length is counted: a browser counts a
    line break as one character towards a textarea's maxlength but sends two.
    """
    text = (comment or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > COMMENT_MAX_LENGTH:
        raise InvalidComment(
            str(COMMENT_TOO_LONG)
            % {
                "limit": number_format(COMMENT_MAX_LENGTH, force_grouping=True),
                "length": number_format(len(text), force_grouping=True),
            }
        )
    found = forbidden_character(text)
    if found is not None:
        position, character = found
        message = (
            COMMENT_DIRECTION_CONTROL
            if character in DIRECTION_CONTROLS
            else COMMENT_CONTROL_CHARACTER
        )
        raise InvalidComment(
            str(message)
            % {"character": character_label(character), "position": position}
        )
    return text
