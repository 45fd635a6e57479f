"""No import circles between the modules of ``src/canbao``, function-level imports included.

A circle hidden behind a lazy import still couples the modules in it (``PeriodContext``
once lived in ``pipeline``, which imports the stages that imported it): parse every
module with ``ast`` and look for strongly connected components of the import graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "canbao"


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` under the package ``root``."""
    mods = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def _owner(name: str, mods: dict[str, Path]) -> str | None:
    """The module a dotted import name lands in (``a.b.func`` → ``a.b``)."""
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the package modules it imports anywhere in its body."""
    mods = module_files(root)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" for a in node.names]
            for name in targets:
                owner = _owner(name, mods)
                if owner and owner != mod:
                    graph[mod].add(owner)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.append(member)
                    if member == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_no_import_circles_in_canbao():
    found = circles(import_graph(SRC))
    assert not found, "import circles: " + "; ".join(" ↔ ".join(c) for c in found)


def test_stages_are_imported_at_the_top_of_the_pipeline():
    tree = ast.parse((SRC / "run" / "pipeline.py").read_text(encoding="utf-8"))
    nested = [
        node
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef)
        for node in ast.walk(fn)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert nested == []


def test_a_lazy_import_circle_is_found(tmp_path):
    """The check sees through function-level and relative imports (the old pipeline shape)."""
    pkg = tmp_path / "pkg"
    (pkg / "stages").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "pipeline.py").write_text(
        "class Context: ...\n\ndef stages():\n    from pkg.stages import clean\n    return [clean]\n"
    )
    (pkg / "stages" / "__init__.py").write_text("")
    (pkg / "stages" / "clean.py").write_text("from ..pipeline import Context\n")
    (pkg / "other.py").write_text("import pkg.pipeline\n")
    assert circles(import_graph(pkg)) == [["pkg.pipeline", "pkg.stages.clean"]]


def test_every_canbao_import_in_the_notebooks_resolves():
    """Notebooks are not parsed by ruff or collected by pytest: a moved module would
    only show when papermill runs them, so resolve their imports here."""
    import importlib
    import json

    missing = []
    for nb in sorted((SRC.parents[1] / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
            for node in ast.walk(ast.parse("\n".join(lines))):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("canbao"):
                    module = importlib.import_module(node.module)
                    for alias in node.names:
                        name = f"{node.module}.{alias.name}"
                        if not hasattr(module, alias.name):
                            try:
                                importlib.import_module(name)
                            except ImportError:
                                missing.append(f"{nb.name}: {name}")
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.name.startswith("canbao"):
                            importlib.import_module(alias.name)
    assert missing == []


def test_every_canbao_import_names_a_module_that_exists():
    """After a module moves, an import of its old path fails here, not at run time."""
    root = SRC.parents[1]
    mods = module_files(SRC)
    stale = []
    for folder in ("src", "tests", "benchmarks"):
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module]
                    if node.module == "canbao":  # from canbao import <module>
                        names += [f"canbao.{a.name}" for a in node.names if a.name != "__version__"]
                for name in names:
                    if name.split(".")[0] == "canbao" and name not in mods:
                        stale.append(f"{path.relative_to(root)}:{node.lineno}: {name}")
    assert stale == []
