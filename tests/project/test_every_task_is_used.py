"""Every background task is started by the application: a task nothing enqueues is
dead code that a reader would take for the thing that does the work (escalations are
run by `manage.py process_escalations`, not by a task)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The modules that define tasks: the import tasks, and the outbox's delivery.
TASK_MODULES = [ROOT / "workflow" / "tasks.py", ROOT / "workflow" / "outbox.py"]
APPLICATION = ["custapproval", "customers", "workflow"]


def task_names(module: Path) -> list[str]:
    tree = ast.parse(module.read_text())
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(
            isinstance(d, ast.Call) and getattr(d.func, "id", "") == "task"
            for d in node.decorator_list
        )
    ]


def uses(name: str, text: str) -> int:
    """How often `name` is named in `text` other than where it is defined."""
    return len(re.findall(rf"\b{name}\b", text)) - len(
        re.findall(rf"def {name}\b", text)
    )


def test_every_task_is_used_by_the_application():
    sources = [
        path.read_text()
        for folder in APPLICATION
        for path in (ROOT / folder).rglob("*.py")
    ]
    names = [name for module in TASK_MODULES for name in task_names(module)]
    unused = [name for name in names if not any(uses(name, text) for text in sources)]
    assert len(names) == 4
    assert unused == []
