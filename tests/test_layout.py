"""The code's layout: one package per capability, imports running one way, modules a reader can take in."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APP = ROOT / "articles"
MAX_LINES = 450
# The packages of articles/, each with the one-line docstring that says what it owns.
CAPABILITIES = ["editing", "export", "ingest", "models", "nlp", "quality", "queue", "site", "workspace"]


def _modules() -> dict[str, Path]:
    """Every module of the app outside its migrations, by dotted name."""
    found = {}
    for path in sorted(APP.rglob("*.py")):
        if "migrations" in path.relative_to(APP).parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _module_level_imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The app's modules this one imports when it is imported: every import statement that is not
    inside a function or class body (those inside a module-level ``if`` count)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    statements = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while statements:
        node = statements.pop()
        if isinstance(node, ast.If | ast.Try):
            statements += [*node.body, *node.orelse, *getattr(node, "finalbody", [])]
        elif isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], *filter(None, [base])]
                )
            targets.add(base)
            targets |= {f"{base}.{alias.name}" for alias in node.names}
    return {target for target in targets if target in modules and target != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _module_level_imports(path, name, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), or with a self-loop."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_module_imports_itself_back_through_others():
    assert _cycles(_graph()) == []


def test_no_package_of_the_app_imports_one_that_imports_it_back():
    packages: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        packages.setdefault(_package(module), set()).update(
            _package(t) for t in targets if _package(t) != _package(module)
        )
    assert _cycles(packages) == []


def test_the_models_import_nothing_else_of_the_app():
    upward = {m: t for m, targets in _graph().items() if m.startswith("articles.models") for t in targets}
    assert all(target.startswith("articles.models") for target in upward.values()), upward


def test_only_the_url_table_and_the_upload_limit_import_views():
    views = {
        module: sorted(t for t in targets if t.endswith(".views") or t.endswith(".history"))
        for module, targets in _graph().items()
    }
    allowed = {"articles.urls", "articles.ingest.middleware"}
    assert {module for module, targets in views.items() if targets} <= allowed


def test_no_module_outside_migrations_and_tests_is_over_450_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in _modules().values()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


@pytest.mark.parametrize("package", CAPABILITIES)
def test_each_package_says_in_one_line_what_it_owns(package):
    docstring = ast.get_docstring(ast.parse((APP / package / "__init__.py").read_text()))
    assert docstring and "\n" not in docstring.strip()


def test_the_readme_is_a_front_door_with_the_manual_in_docs():
    assert (ROOT / "README.md").stat().st_size <= 20 * 1024
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    for page in [
        "data-model",
        "preannotation",
        "importing",
        "exporting",
        "quality",
        "security",
        "operations",
        "benchmarks",
    ]:
        assert (ROOT / "docs" / f"{page}.md").is_file(), page
        assert f"docs/{page}.md" in readme, page
