"""The structure README's "Architecture" promises, checked: every platform kind comes with its
adapter, its sandbox and its contract-test case; no import hides inside a function without
saying why; the layers' contracts are declared where `make test` runs them."""

from __future__ import annotations

import ast
import importlib.util
import tomllib
from pathlib import Path

import pytest

from panel.domain.kinds import KINDS
from panel.providers import REGISTRY
from tests.providers.test_contract import CASES

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_an_adapter_a_sandbox_and_a_contract_case(kind):
    assert REGISTRY[kind].platform_kind is KINDS[kind], f"no adapter speaks for the kind {kind!r}"
    spec = importlib.util.find_spec(f"sandbox.{kind}")
    assert spec is not None, f"no sandbox/{kind}.py: `python -m sandbox.{kind}` would not start"
    sandbox = importlib.import_module(f"sandbox.{kind}")
    assert callable(getattr(sandbox, "create_app", None)), f"sandbox/{kind}.py has no create_app"
    assert kind in {case.kind for case in CASES}, f"tests/providers/test_contract.py has no case for {kind!r}"


def test_every_adapter_belongs_to_a_known_kind():
    assert set(REGISTRY) == set(KINDS)


def _local_imports(path: Path) -> list[tuple[int, str]]:
    """Imports inside functions, as (line, source line), with no comment saying why."""
    source = path.read_text()
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)) and "#" not in lines[inner.lineno - 1]:
                    found.append((inner.lineno, lines[inner.lineno - 1].strip()))
    return found


def test_no_import_hides_in_a_function_without_saying_why():
    hidden = {
        str(path.relative_to(PROJECT_ROOT)): imports
        for path in sorted((PROJECT_ROOT / "panel").rglob("*.py"))
        if (imports := _local_imports(path))
    }
    assert hidden == {}


def test_the_layers_are_declared_for_import_linter():
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [layers] = [contract for contract in config["contracts"] if contract["type"] == "layers"]

    def level(module: str) -> int:
        return next(i for i, layer in enumerate(layers["layers"]) if module in layer.split(" : "))

    assert (
        level("panel.auth")
        < level("panel.jobs")
        < level("panel.providers")
        < level("panel.domain")
        < level("panel.models")
    )
    assert level("panel.templating") == level("panel.auth")
    forbidden = {
        (tuple(c["source_modules"]), tuple(c["forbidden_modules"]))
        for c in config["contracts"]
        if c["type"] == "forbidden"
    }
    assert any("panel.providers" in targets and "panel.web" in sources for sources, targets in forbidden)
    assert any("panel.models" in targets and sources == ("panel.providers",) for sources, targets in forbidden)
    assert any(targets == ("panel",) and sources == ("sandbox",) for sources, targets in forbidden)
