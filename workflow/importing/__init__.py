"""Import files: reading them (`reading`), one cell into one value (`values`), and the
plan of what a file would do, row by row (`plan`)."""

from __future__ import annotations
