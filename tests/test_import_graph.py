"""Dependencies point one way (docs/conventions.md): no app imports an app above it or
beside it. The layers, top first; an app may import its own modules and any app of a
lower layer. Tests and migrations are outside the rule."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS: list[set[str]] = [
    {"console"},
    {"api"},
    {"agents", "finetuning"},
    {"connectors"},
    {"features"},
    {"billing", "compliance"},
    {"catalogue", "accounts"},
    {"core"},
]
LEVEL = {app: i for i, layer in enumerate(LAYERS) for app in layer}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(LEVEL)


def _modules() -> list[tuple[str, Path]]:
    out = []
    for app in sorted(LEVEL):
        base = ROOT / app
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            out.append((app, path))
    return out


def test_every_app_is_placed_in_a_layer() -> None:
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")} | {
        p.parent.name for p in ROOT.glob("*/__init__.py") if (p.parent / "models.py").exists()
    }
    assert apps - set(LEVEL) == set(), "place the new app in LAYERS"


@pytest.mark.parametrize(
    ("app", "path"),
    _modules(),
    ids=lambda v: str(v.relative_to(ROOT)) if isinstance(v, Path) else "",
)
def test_no_app_imports_one_above_or_beside_it(app: str, path: Path) -> None:
    wrong = sorted(other for other in _imports(path) if other != app and LEVEL[other] <= LEVEL[app])
    assert wrong == [], f"{path.relative_to(ROOT)} imports {wrong}, which are not below {app}"


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from console.services import workspace_open\nimport billing.models\n")
    assert _imports(module) == {"console", "billing"}
