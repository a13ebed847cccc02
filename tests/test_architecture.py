"""Architecture rules that keep tenancy and layering from depending on memory.

Import rules (only llm imports openai, the layers) are import-linter contracts in
pyproject.toml, checked by `make lint`; what stays here are the tenancy rules that look at
attribute uses and comments, which import-linter cannot see.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Interfaces: parse, call one service or selector, render. They never touch a manager.
INTERFACE_FILES = sorted(
    [
        *ROOT.glob("accounts/views.py"),
        *ROOT.glob("accounts/api.py"),
        *ROOT.glob("tutoring/web/*.py"),
        *ROOT.glob("tutoring/api/*.py"),
        *ROOT.glob("tutoring/forms*.py"),
        *ROOT.glob("tutoring/tasks.py"),
    ]
)


def _manager_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in (
            "objects",
            "_default_manager",
            "_base_manager",
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_views_api_forms_and_tasks_reach_data_only_through_selectors_and_services():
    offenders = [use for path in INTERFACE_FILES for use in _manager_uses(path)]
    assert INTERFACE_FILES, "no interface modules found"
    assert offenders == [], "use a selector or a service instead of a manager: " + ", ".join(
        offenders
    )


def test_the_escape_hatch_is_used_only_where_allowed_and_always_explained():
    allowed_dirs = ("tests", "bench", ".venv")
    offenders = []
    for path in ROOT.glob("**/*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in allowed_dirs or "migrations" in rel.parts:
            continue
        if rel.parts[-1] == "admin.py" or "management" in rel.parts or rel.name == "tenancy.py":
            continue
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, start=1):
            if "unscoped_cross_school(" in line or "cross_school(" in line.replace(
                "unscoped_cross_school(", ""
            ):
                window = "\n".join(lines[max(0, number - 4) : number])
                if "# cross-school:" not in window:
                    offenders.append(f"{rel}:{number}")
    assert offenders == [], "explain each cross-school use with a `# cross-school:` comment"
