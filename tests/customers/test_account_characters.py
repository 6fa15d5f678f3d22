"""Which characters an account may not hold: those nobody can see or that pass for a
space. Checked for every code point, since the check takes a shortcut through
Python's own idea of a printable character."""

from __future__ import annotations

import sys
import unicodedata

from customers.validators import invisible_character


def cannot_be_seen(character: str) -> bool:
    """The rule as the account's error message states it."""
    category = unicodedata.category(character)
    return (
        category[0] == "C"
        or category in ("Zl", "Zp")
        or (category == "Zs" and character != " ")
    )


def test_every_code_point_is_refused_exactly_when_it_cannot_be_seen():
    wrong = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if (invisible_character(f"C{chr(code)}1") is not None)
        != cannot_be_seen(chr(code))
    ]

    assert wrong == []


def test_the_refusal_names_the_first_hidden_character_and_its_place():
    assert invisible_character("C 0\u200b1\u00a0") == (4, "\u200b")
    assert invisible_character("C00 01") is None
