"""Every background task is started by the application: a task nothing enqueues is
dead code that a reader would take for the thing that does the work (escalations are
run by `manage.py process_escalations`, not by a task)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TASKS = ROOT / "workflow" / "tasks.py"
APPLICATION = ["custapproval", "customers", "workflow"]


def task_names() -> list[str]:
    tree = ast.parse(TASKS.read_text())
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(
            isinstance(d, ast.Call) and getattr(d.func, "id", "") == "task"
            for d in node.decorator_list
        )
    ]


def test_every_task_is_used_by_the_application():
    sources = [
        path.read_text()
        for folder in APPLICATION
        for path in (ROOT / folder).rglob("*.py")
        if path != TASKS
    ]
    unused = [
        name
        for name in task_names()
        if not any(re.search(rf"\b{name}\b", text) for text in sources)
    ]
    assert task_names() != []
    assert unused == []
