"""The house in layers (docs/architecture.md): each agmcore package imports only from the layers
below it, siblings of one layer not from each other, and nothing below presentation imports the
UI stack. Read from the source (AST), so an import inside a function counts too."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "agmcore"
# bottom to top; packages of one layer are siblings and may not import each other
LAYERS = (
    ("agmcore", "agmcore.checks", "agmcore.settings"),
    ("agmcore.optimizers",),
    ("agmcore.problems",),
    ("agmcore.engine",),
    ("agmcore.analysis",),
    ("agmcore.storage",),
    ("agmcore.experiments", "agmcore.service"),
    ("agmcore.presentation",),
    ("agmcore.command",),
    ("agmcore.__main__",),
)
UI_STACK = ("streamlit", "plotly", "kaleido")
PRESENTATION = 7


def unit_of(module: str) -> str:
    """The layer unit a dotted module belongs to: its longest listed prefix."""
    units = [u for layer in LAYERS for u in layer if module == u or module.startswith(u + ".")]
    assert units, f"{module} is in no layer: add its package to LAYERS and to docs/architecture.md"
    return max(units, key=len)


def layer_of(module: str) -> int:
    unit = unit_of(module)
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, here: str, is_package: bool = False):
    """(line, imported dotted name) for every import in the source of module `here`, relative
    ones resolved."""
    package = here if is_package else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}" if base.startswith("agmcore") else base


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_in_a_layer():
    assert SOURCES
    for path in SOURCES:
        layer_of(module_name(path))


def upward_imports(source: str, here: str, is_package: bool = False):
    """The imports of module `here` that do not point down (or within its own package)."""
    mine, my_unit = layer_of(here), unit_of(here)
    for line, name in imports_of(source, here, is_package):
        if not name.startswith("agmcore"):
            continue
        # "from agmcore.x import y" names y in x: x decides the layer
        target = name if name == "agmcore" else name.rpartition(".")[0]
        theirs, their_unit = layer_of(target), unit_of(target)
        if not (theirs < mine or their_unit == my_unit):
            yield f"{here}:{line} imports {name} (layer {theirs}, {their_unit}) from layer {mine} ({my_unit})"


def source_of(path):
    return path.read_text(), module_name(path), path.name == "__init__.py"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path):
    assert list(upward_imports(*source_of(path))) == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_ui_stack_below_presentation(path):
    source, here, is_package = source_of(path)
    allowed = () if layer_of(here) < PRESENTATION else ("plotly", "kaleido")
    for line, name in imports_of(source, here, is_package):
        top = name.split(".")[0]
        assert top not in UI_STACK or top in allowed, f"{path.relative_to(ROOT)}:{line} imports {name}"


def test_the_checker_sees_wrong_imports():
    """The check itself can fail: upward, sibling and relative upward imports are caught; downward
    ones and those within a package are not."""
    assert list(upward_imports("from agmcore.analysis import verdict\n", "agmcore.engine.probe"))
    assert list(upward_imports("from agmcore.service import jobs\n", "agmcore.experiments.probe"))
    assert list(upward_imports("def f():\n    from ..storage.store import ResultStore\n", "agmcore.analysis.probe"))
    assert list(upward_imports("import agmcore.presentation.figures\n", "agmcore.storage.probe"))
    assert not list(upward_imports("from agmcore.engine.config import RunConfig\nfrom . import verdict\n"
                                   "from agmcore import DENOISED\n", "agmcore.analysis.probe"))
