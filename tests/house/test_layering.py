"""The house's layering, checked on the source: no import cycle, `intercom/` and `itop/` never
import each other, only the serve entry point imports the web app, the worker does not load it,
all OQL is written in `itop/`, and no module is over 400 lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import itop_intercom

SRC = Path(itop_intercom.__file__).parent
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(path: Path, *, runtime_only: bool, top_level_only: bool) -> Iterator[str]:
    """The itop_intercom modules `path` imports. `runtime_only` leaves out imports under `if
    TYPE_CHECKING:` (they never run); `top_level_only` leaves out imports inside functions
    (they run when called, not when the module is imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def walk(nodes: list[ast.stmt]) -> Iterator[str]:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                if not runtime_only:
                    yield from walk(node.body)
                yield from walk(node.orelse)
            elif isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield node.module
                yield from (f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and top_level_only:
                continue
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        yield from walk([n for n in inner if isinstance(n, ast.stmt)])
                if isinstance(node, ast.Try):
                    for handler in node.handlers:
                        yield from walk(handler.body)

    known = modules()
    for name in walk(tree.body):
        if name in known:
            yield name


def graph(*, runtime_only: bool, top_level_only: bool) -> dict[str, set[str]]:
    return {
        name: set(imports(path, runtime_only=runtime_only, top_level_only=top_level_only))
        for name, path in modules().items()
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle() -> None:
    edges = graph(runtime_only=True, top_level_only=True)
    assert cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_intercom_and_itop_never_import_each_other() -> None:
    edges = graph(runtime_only=False, top_level_only=False)
    pairs = [
        ("itop_intercom.itop", "itop_intercom.intercom"),
        ("itop_intercom.intercom", "itop_intercom.itop"),
    ]
    for side, other in pairs:
        wrong = sorted(
            f"{name} → {target}"
            for name, targets in edges.items()
            if name.startswith(side + ".") or name == side
            for target in targets
            if target == other or target.startswith(other + ".")
        )
        assert wrong == []


def test_only_the_serve_entry_point_imports_the_web_app() -> None:
    edges = graph(runtime_only=False, top_level_only=False)
    importers = sorted(name for name, targets in edges.items() if "itop_intercom.app" in targets)
    assert importers == ["itop_intercom.serve"]


def test_the_worker_does_not_load_the_web_app() -> None:
    code = (
        "import sys\n"
        "import itop_intercom.sync.commands, itop_intercom.sync.worker\n"
        "from itop_intercom.runtime import build_services\n"
        "from itop_intercom.settings.model import Settings\n"
        "build_services(Settings(database={'url': 'sqlite+aiosqlite:///:memory:'}))\n"
        "loaded = sorted(m for m in sys.modules if m in ('itop_intercom.app', 'fastapi'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_oql_is_written_in_itop_only() -> None:
    """Ticket queries are built in `itop/` (`Tickets`, probes), never by a screen or the sync."""
    writers = sorted(
        name
        for name, path in modules().items()
        if not name.startswith("itop_intercom.itop.")
        and ('f"SELECT {' in path.read_text(encoding="utf-8"))
    )
    assert writers == []


def test_no_module_is_over_400_lines() -> None:
    long = {
        name: lines
        for name, path in modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_write_transaction_goes_through_the_write_gate() -> None:
    """On SQLite, writes of one process queue in memory (`Database.write_transaction`) instead of
    in SQLite's busy handler; only the group-commit writer opens its own transaction, inside
    `Database.write_gate`."""
    allowed = {"itop_intercom.store.database", "itop_intercom.sync.groupcommit"}
    opening = sorted(
        name
        for name, path in modules().items()
        if name not in allowed and ".begin()" in path.read_text(encoding="utf-8")
    )
    assert opening == []
