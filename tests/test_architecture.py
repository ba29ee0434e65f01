"""House rules that a reviewer would otherwise have to remember (STYLE.md rules 1-3, 5)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
SENSITIVE = {
    "Person", "OtherName", "AboutMe", "TimelineEvent", "Relationship", "SharingDecision",
    "Allocation", "Contact", "Review", "Closure", "SupportPlan", "Goal", "Step",
    "ProgressNote", "SafetyMarker", "SafeguardingConcern", "SafeguardingUpdate", "Death",
    "Spend", "PersonVisit", "Referral", "ReferralMessage", "Alert", "Meeting", "AgendaItem",
    "Action", "BarrierPerson", "Completion", "SubjectAccessRequest", "RectificationRequest",
}  # fmt: skip
THIN_MODULES = ("views.py", "admin_views.py", "api.py")


def _thin_modules() -> list[Path]:
    return [p for p in (SRC / "onestory").rglob("*.py") if p.name in THIN_MODULES]


def test_views_reach_person_data_only_through_scope() -> None:
    """A view or endpoint never calls a sensitive model's manager: only ``access.scope``."""
    offences = []
    for path in _thin_modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in {"objects", "_default_manager", "_base_manager"}
                and isinstance(node.value, ast.Name)
                and node.value.id in SENSITIVE
            ):
                offences.append(
                    f"{path.relative_to(SRC)}:{node.lineno} {node.value.id}.{node.attr}"
                )
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"get_object_or_404", "get_list_or_404"}
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id in SENSITIVE
            ):
                offences.append(f"{path.relative_to(SRC)}:{node.lineno} {node.func.id}")
    assert not offences, "person data fetched outside access.scope:\n" + "\n".join(offences)


def test_every_view_function_declares_an_access_rule() -> None:
    """Deny by default is enforced at run time; this catches the omission at review time."""
    missing = []
    for path in _thin_modules():
        if path.name == "api.py":
            continue  # ninja operations are authenticated by the API's auth class
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                args = [a.arg for a in node.args.args]
                if args[:1] == ["request"] and not node.decorator_list:
                    missing.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}")
    assert not missing, "views without an access decorator:\n" + "\n".join(missing)


def test_services_write_audit_explicitly() -> None:
    """Every service module that writes calls ``audit.record`` (no signals)."""
    for path in (SRC / "onestory").rglob("services.py"):
        text = path.read_text()
        if ".create(" in text or ".save(" in text or ".update(" in text:
            assert "audit.record(" in text or "write_event(" in text, path


def test_engine_never_imports_django() -> None:
    for path in (SRC / "onestory_engine").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                root = name.split(".")[0]
                assert root not in {"django", "onestory", "ninja", "allauth"}, (path, name)
