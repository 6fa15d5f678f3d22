"""A refusal of the core: what kind of "no" it is, and the sentence that explains it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from ..exceptions import (
    AlreadyDecided,
    NotSubmittable,
    PermissionRefused,
    WorkflowError,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class RefusalKind(StrEnum):
    PERMISSION = "permission"
    SEPARATION = "separation"
    ASSIGNMENT = "assignment"
    STATE = "state"
    INPUT = "input"


_ERRORS: dict[RefusalKind, type[WorkflowError]] = {
    RefusalKind.PERMISSION: PermissionRefused,
    RefusalKind.SEPARATION: PermissionRefused,
    RefusalKind.ASSIGNMENT: PermissionRefused,
    RefusalKind.STATE: AlreadyDecided,
    RefusalKind.INPUT: NotSubmittable,
}


@dataclass(frozen=True)
class Refusal:
    kind: RefusalKind
    message: StrOrPromise

    def error(self) -> WorkflowError:
        """The exception a service raises for this refusal."""
        return _ERRORS[self.kind](str(self.message))

    def __str__(self) -> str:
        return str(self.message)
