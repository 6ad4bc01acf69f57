"""core/ is the engine: it must import and run without Qt."""

import ast
import subprocess
import sys

from tests.conftest import ROOT

FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6", "gui")


def test_no_module_in_core_imports_qt_or_the_gui():
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.relative_to(ROOT)} imports {name}"


def test_importing_the_whole_engine_loads_no_qt():
    code = ("import sys, pkgutil, importlib, core\n"
            "for module in pkgutil.walk_packages(core.__path__, 'core.'): importlib.import_module(module.name)\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# core's packages in layers: a package imports only from the ones before it (and core's own
# top-level modules: errors, wording, atomic_file), so the architecture reads from the bottom up.
LAYERS = ("compiled", "data", "engine", "files", "runs", "analysis")


def test_packages_import_only_the_layers_below_them():
    for path in (ROOT / "core").rglob("*.py"):
        package = path.parent.name
        if package not in LAYERS:
            continue
        allowed = set(LAYERS[:LAYERS.index(package) + 1])
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core."):
                imported = node.module.split(".")[1]
                if (ROOT / "core" / imported).is_dir():
                    assert imported in allowed, f"{path.relative_to(ROOT)} imports core.{imported}"
