"""Import profiles: how the columns of someone else's file map to a model's fields.

A file written by another system (a Dynamics 365 data entity export, say) names its
columns its own way and spells some values its own way. A profile says which column
fills which field, turns its values into the ones the field reads (simple value maps,
such as three-letter to two-letter country codes), and names the columns it leaves
out on purpose; any other column is unknown, refused unless the user chooses to
ignore it, and then listed in the preview.

The engine knows no profile: an app registers its own from `AppConfig.ready()`, as it
registers its governed models, and the import reads the file through the one chosen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from .reading import FileRefused

UNKNOWN_PROFILE = gettext_lazy(
    "There is no import profile “%(profile)s” for %(models)s; there are: %(known)s."
)
NO_PROFILES = gettext_lazy("none")


@dataclass(frozen=True)
class ColumnMap:
    """One column of the file: the field it fills and how its values read.

    `values` replaces a whole cell (compared without regard to case or surrounding
    spaces; a value not in it passes unchanged, for the field to accept or refuse);
    `convert` rewrites a cell's text before that, for spellings a map cannot list.
    """

    field: str
    values: Mapping[str, str] = dataclasses.field(default_factory=dict)
    convert: Callable[[str], str] | None = None

    def __post_init__(self) -> None:
        folded = {str(k).strip().casefold(): v for k, v in self.values.items()}
        object.__setattr__(self, "values", MappingProxyType(folded))

    def read(self, raw: object) -> object:
        """The cell as the field's own import rule should see it."""
        if not isinstance(raw, str):
            return raw
        text = raw.strip()
        if self.convert is not None:
            text = self.convert(text)
        return self.values.get(text.casefold(), text)


@dataclass(frozen=True)
class ImportProfile:
    """The columns of one kind of file, for one model."""

    name: str
    label: Promise | str
    model: type[models.Model]
    columns: Mapping[str, ColumnMap]
    # Columns of the file's own layout that have no field here, left out on purpose.
    ignored: frozenset[str] = frozenset()
    description: Promise | str = ""
    # Worked out from the above: column names without regard to case.
    _by_name: dict[str, ColumnMap] = dataclasses.field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _column_names: dict[str, str] = dataclasses.field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _ignored: frozenset[str] = dataclasses.field(
        init=False, repr=False, compare=False, default=frozenset()
    )

    def __post_init__(self) -> None:
        columns = {
            name.strip().casefold(): (
                spec if isinstance(spec, ColumnMap) else ColumnMap(field=spec)
            )
            for name, spec in self.columns.items()
        }
        fields = [spec.field for spec in columns.values()]
        doubled = sorted({f for f in fields if fields.count(f) > 1})
        if doubled:
            raise ValueError(
                f"Profile {self.name!r} fills {', '.join(doubled)} from two columns."
            )
        names = {f.name for f in self.model._meta.concrete_fields}
        strange = sorted(set(fields) - names)
        if strange:
            raise ValueError(
                f"Profile {self.name!r} names no field of {self.model.__name__}: "
                f"{', '.join(strange)}."
            )
        overlap = sorted(set(columns) & {c.casefold() for c in self.ignored})
        if overlap:
            raise ValueError(
                f"Profile {self.name!r} both reads and ignores {', '.join(overlap)}."
            )
        object.__setattr__(self, "_by_name", columns)
        object.__setattr__(
            self, "_column_names", {n.strip().casefold(): n for n in self.columns}
        )
        object.__setattr__(
            self, "_ignored", frozenset(c.strip().casefold() for c in self.ignored)
        )

    def column_of(self, field_name: str) -> str:
        """The file's name for the column that fills `field_name`, as the profile spells it."""
        for folded, spec in self._by_name.items():
            if spec.field == field_name:
                return self._column_names[folded]
        return field_name

    def map_header(self, header: Iterable[str]) -> HeaderMapping:
        """Which column of this file fills which field; what is left out, and why."""
        mapping = HeaderMapping()
        for column in header:
            if not column:
                continue
            folded = column.strip().casefold()
            spec = self._by_name.get(folded)
            if spec is not None:
                mapping.sources.setdefault(spec.field, column)
                mapping.readers[spec.field] = spec
                mapping.seen.append(column)
            elif folded in self._ignored:
                mapping.ignored.append(column)
            else:
                mapping.unknown.append(column)
        return mapping


@dataclass
class HeaderMapping:
    """One file's header read through a profile."""

    sources: dict[str, str] = dataclasses.field(default_factory=dict)  # field: column
    readers: dict[str, ColumnMap] = dataclasses.field(default_factory=dict)
    seen: list[str] = dataclasses.field(default_factory=list)  # the columns read
    ignored: list[str] = dataclasses.field(default_factory=list)  # by the profile
    unknown: list[str] = dataclasses.field(default_factory=list)


_profiles: dict[tuple[str, str], ImportProfile] = {}


def register(profile: ImportProfile) -> ImportProfile:
    """Offer `profile` for its model's imports (the Import page and the command)."""
    _profiles[(profile.model._meta.label_lower, profile.name)] = profile
    return profile


def profiles_for(model: type[models.Model]) -> list[ImportProfile]:
    label = model._meta.label_lower
    return [p for (owner, _name), p in _profiles.items() if owner == label]


def get(model: type[models.Model], name: str) -> ImportProfile:
    """The profile `name` of `model`; refuses the file when there is none."""
    profile = _profiles.get((model._meta.label_lower, name))
    if profile is None:
        known = ", ".join(p.name for p in profiles_for(model)) or str(NO_PROFILES)
        raise FileRefused(
            str(UNKNOWN_PROFILE)
            % {
                "profile": name,
                "models": model._meta.verbose_name_plural,
                "known": known,
            }
        )
    return profile


def doubled_columns(columns: Iterable[str]) -> list[str]:
    """The columns named twice (without regard to case), each once, in file order."""
    seen: set[str] = set()
    doubled: dict[str, str] = {}
    for column in columns:
        folded = column.casefold()
        if folded in seen:
            doubled.setdefault(folded, column)
        seen.add(folded)
    return list(doubled.values())
