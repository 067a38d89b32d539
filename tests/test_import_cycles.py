"""No import cycle in attn_research/: the module import graph, built statically (ast) from every .py file.

    .venv/bin/python -m pytest -q tests/test_import_cycles.py

An edge A -> B: module A imports module B of the package anywhere in its file, at the top or inside a
function (a deferred import still ties the two modules together; it only hides the cycle until it runs).
`from x import y` is an edge to x.y when x.y is a module of the package, else to x; relative imports resolve
against A's package; `import x.y` is an edge to the deepest module of the package it names. The parent
packages an import passes through are not edges (else every `from pkg.sub import f` inside pkg would close a
cycle with pkg/__init__.py). Not seen: importlib.import_module of a computed name (the pkgutil loops of
attention/__init__.py and tasks/__init__.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "attn_research"


def module_files(root: Path, package: str) -> dict[str, Path]:
    """{dotted module name: file} of every .py file under root/package (a package is its __init__.py)."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_names(name: str, path: Path, modules: dict[str, Path]) -> dict[str, int]:
    """{dotted name: line} of everything module `name` (at `path`) imports, function bodies included:
    `from x import y` gives x.y when that is a module in `modules`, else x; relative names are resolved."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    names: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.setdefault(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                names.setdefault(submodule if submodule in modules else source, node.lineno)
    return names


def import_graph(root: Path, package: str) -> dict[str, dict[str, int]]:
    """{module: {imported module of the package: line of the import}} (see the module docstring)."""
    modules = module_files(root, package)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        graph[name] = {}
        for target, line in imported_names(name, path, modules).items():
            while target not in modules and "." in target:  # a name defined in a module: that module
                target = target.rpartition(".")[0]
            if target in modules and target != name:
                graph[name].setdefault(target, line)
    return graph


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One import cycle [a, b, ..., a] (depth first, modules in sorted order), or None if the graph has none."""
    state: dict[str, str] = {}  # module -> "visiting" (on the current path) | "done"

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = "visiting"
        for child in sorted(graph[module]):
            if state.get(child) == "visiting":
                return path[path.index(child) :] + [child]
            if child not in state:
                cycle = visit(child, path + [child])
                if cycle:
                    return cycle
        state[module] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [start])
            if cycle:
                return cycle
    return None


def describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    """'a -> b (line n of a) -> ...': each edge of the cycle with the line of its import."""
    return " -> ".join([cycle[0]] + [f"{b} (line {graph[a][b]} of {a})" for a, b in zip(cycle, cycle[1:])])


def without(graph: dict[str, dict[str, int]], edges) -> dict[str, dict[str, int]]:
    """The graph less `edges` ((importer, imported) pairs)."""
    return {a: {b: line for b, line in targets.items() if (a, b) not in edges} for a, targets in graph.items()}


def test_the_package_has_no_import_cycle():
    graph = import_graph(ROOT, PACKAGE)
    assert len(graph) > 50 and "attn_research.attention.hard" in graph  # the walk found the package
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {describe(cycle, graph)}"


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_graph_resolves_relative_submodule_and_deferred_imports(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.sub import helper\n",
            "pkg/sub/__init__.py": "from . import leaf\nfrom .leaf import VALUE\n",
            "pkg/sub/leaf.py": "import os\nVALUE = 1\n",
            "pkg/sub/helper.py": "from ..other import f\n\ndef g():\n    import pkg.sub.leaf\n",
            "pkg/other.py": "def f():\n    from pkg import sub\n",
        },
    )
    graph = import_graph(tmp_path, "pkg")
    assert graph == {
        "pkg": {"pkg.sub.helper": 1},  # `from pkg.sub import helper`: the submodule, not its package
        "pkg.sub": {"pkg.sub.leaf": 1},  # `from . import leaf` and `from .leaf import VALUE`: one edge
        "pkg.sub.leaf": {},  # os is outside the package
        "pkg.sub.helper": {"pkg.other": 1, "pkg.sub.leaf": 4},  # `..other` from pkg/sub/helper.py; in a function
        "pkg.other": {"pkg.sub": 2},
    }
    assert find_cycle(graph) is None


def test_a_deferred_import_that_closes_a_cycle_is_found_and_named(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import x\n",
            "pkg/b.py": "from pkg.c import y\nx = 1\n",
            "pkg/c.py": "y = 2\n\ndef later():\n    from pkg import a\n",
        },
    )
    graph = import_graph(tmp_path, "pkg")
    cycle = find_cycle(graph)
    assert cycle == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
    assert describe(cycle, graph) == (
        "pkg.a -> pkg.b (line 1 of pkg.a) -> pkg.c (line 1 of pkg.b) -> pkg.a (line 4 of pkg.c)"
    )
    assert find_cycle(without(graph, {("pkg.c", "pkg.a")})) is None
