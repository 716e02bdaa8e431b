"""The package's layout tells its story: each layer imports only from the layers below it.

bus -> adapter -> recorder -> format -> file -> format -> replayer -> adapter -> bus: the core
(data, formats, comparison) at the bottom, the adapters on it, the engines on both, and the
three front ends (pytest plugin, CLI, dashboard) on top, none importing another, except
that the CLI's ``serve`` command launches the dashboard. Reading the package's own
``__version__`` is not a dependency on the layer above.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pytest_eventrecorder"

CORE = 0
ADAPTERS = 1
ENGINES = 2
FRONT = 3
TOP = 4

ENGINE_MODULES = {"recorder", "replayer"}
FRONT_PACKAGES = {"pytest_plugin", "cli", "server"}
TOP_MODULES = {"__init__", "__main__", "event_recorder", "serve_recorder"}
ALLOWED = {("cli", "server")}
"""(importer, imported) front ends: ``eventrecorder serve`` starts the dashboard."""


def layer_of(module: str) -> tuple[int, str]:
    """(layer, group) of a dotted module name relative to the package (``cli.inputs``)."""
    head = module.split(".")[0]
    if head in TOP_MODULES or module == "":
        return TOP, "top"
    if head in FRONT_PACKAGES:
        return FRONT, head
    if head in ENGINE_MODULES:
        return ENGINES, "engines"
    if head == "adapters":
        return ADAPTERS, "adapters"
    return CORE, "core"


def imports_of(path: Path) -> set[str]:
    """Package-relative names of the package modules ``path`` imports, at any depth."""
    here = path.relative_to(PACKAGE).with_suffix("").parts
    package = here[:-1]  # a module and a package's __init__ both resolve from their folder
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if [alias.name for alias in node.names] == ["__version__"]:
                continue
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = ".".join((*base, *(node.module or "").split("."))).strip(".")
            elif (node.module or "").startswith("pytest_eventrecorder"):
                target = (node.module or "").removeprefix("pytest_eventrecorder").strip(".")
            else:
                continue
            if node.module is None:  # from . import codec: the names are modules
                found.update(".".join((target, a.name)).strip(".") for a in node.names)
            else:
                found.add(target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("pytest_eventrecorder."):
                    found.add(alias.name.removeprefix("pytest_eventrecorder."))
    return found


def violations() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        layer, group = layer_of(module)
        for target in sorted(imports_of(path)):
            their_layer, their_group = layer_of(target)
            upward = their_layer > layer
            sideways = layer == FRONT and their_layer == FRONT and their_group != group
            sideways = sideways and (group, their_group) not in ALLOWED
            if upward or sideways:
                problems.append(f"{module} ({group}) imports {target} ({their_group})")
    return problems


def test_no_layer_imports_one_above_it_or_a_sibling_front_end() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("cassette", CORE),
        ("compare", CORE),
        ("adapters.brokers.redis_", ADAPTERS),
        ("replayer", ENGINES),
        ("cli.brokers", FRONT),
        ("pytest_plugin.session", FRONT),
        ("server.api", FRONT),
        ("__init__", TOP),
    ],
)
def test_layers_are_assigned_as_the_readme_describes(module: str, expected: int) -> None:
    assert layer_of(module)[0] == expected
