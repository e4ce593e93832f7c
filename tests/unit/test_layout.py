"""The package's shape: no import cycle, an exact public namespace, a line memory whose
digest covers every module that decides what a line becomes."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import newsstore
from newsstore import _linememory

ROOT = Path(newsstore.__file__).parent


def _module_name(path: Path) -> str:
    parts = ["newsstore", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports at module level (TYPE_CHECKING included)."""
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        edges: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = list(tree.body)
        while nodes:  # module level, and inside module-level if/try blocks
            node = nodes.pop()
            if isinstance(node, (ast.If, ast.Try)):
                nodes += [*node.body, *node.orelse, *getattr(node, "finalbody", [])]
                for handler in getattr(node, "handlers", []):
                    nodes += handler.body
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    target = ".".join([*base, node.module] if node.module else base)
                else:
                    target = node.module or ""
                for alias in node.names:
                    candidate = f"{target}.{alias.name}"
                    edges.add(candidate if candidate in modules else target)
            elif isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names)
        graph[name] = {e for e in edges if e in modules and e != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_package_has_no_import_cycle() -> None:
    graph = _import_graph()
    assert "newsstore._store.base" in graph["newsstore._store.sqlite"]  # the walk sees edges
    assert _cycle(graph) is None


def test_the_walk_finds_a_cycle_when_there_is_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_line_digests_cover_every_module_that_decides_a_line() -> None:
    # Validation (_records, _fastprepare) and identity (_identity) decide a line's key and
    # content hash:
    # everything they import must be in the digest's salt.
    graph = _import_graph()
    deciding = {f"newsstore.{name}" for name in _linememory.DECIDING}
    todo = ["newsstore._records", "newsstore._identity", "newsstore._fastprepare"]
    reached: set[str] = set()
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo += graph[module]
    assert reached <= deciding, reached - deciding


def test_all_is_exactly_the_public_namespace() -> None:
    public = {name for name in dir(newsstore) if not name.startswith("_")}
    assert set(newsstore.__all__) == public | {"__version__"}


def test_importing_newsstore_does_not_load_the_mongodb_driver() -> None:
    code = "import sys, newsstore; print('pymongo' in sys.modules, 'bson' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_the_adapters_load_lazily_from_the_namespace() -> None:
    from newsstore._store.mongo import MongoStore
    from newsstore._store.sqlite import SQLiteStore

    assert newsstore.MongoStore is MongoStore
    assert newsstore.SQLiteStore is SQLiteStore


def test_the_command_starts_without_loading_the_models_or_a_driver() -> None:
    # --help must start fast: the models, settings and drivers load when a command runs.
    code = (
        "import sys\n"
        "from newsstore_cli.app import app\n"
        "heavy = ('newsstore._schemas', 'pydantic', 'pydantic_settings', 'pymongo', 'sqlite3')\n"
        "print([name for name in heavy if name in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
