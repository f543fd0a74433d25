"""Below the web layer nothing imports Flask, Werkzeug, our web or CLI packages (ARCHITECTURE.md).

The domain runs in the CLI and the worker too; ingest is checked stage by stage.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil

import pytest

WEB_ROOTS = ("flask", "werkzeug")


# The packages under web/ and cli/, in the order ARCHITECTURE.md draws them.
DOMAIN = ("nfhl", "geo", "inputs", "db", "risk", "ogc", "ingest", "users")


def package_modules(package: str) -> list[str]:
    """Every module of a geoapp package, subpackages included."""
    root = importlib.import_module(f"geoapp.{package}")
    found = pkgutil.walk_packages(root.__path__, prefix=f"geoapp.{package}.")
    return [root.__name__, *sorted(info.name for info in found)]


def ingest_modules() -> list[str]:
    """Every module of geoapp.ingest, subpackages included."""
    return package_modules("ingest")


def domain_modules() -> list[str]:
    """Every module below the web layer."""
    return [name for package in DOMAIN for name in package_modules(package)]


def runtime_imports(tree: ast.AST) -> set[str]:
    """Modules an AST imports when run (imports under `if TYPE_CHECKING:` are annotations)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def is_web(name: str) -> bool:
    """Whether a module name belongs to Flask, its extensions, Werkzeug or our web layer."""
    if name == "werkzeug.security":  # password hashing, a library function (users/accounts)
        return False
    root = name.split(".")[0]
    return (root in WEB_ROOTS or root.startswith("flask_")
            or name.startswith(("geoapp.web", "geoapp.cli")))


def test_the_stages_are_all_found() -> None:
    modules = ingest_modules()
    for stage in ("request", "files", "runs", "jobs", "pipeline.plan", "pipeline.read",
                  "pipeline.check", "pipeline.encode", "pipeline.load"):
        assert f"geoapp.ingest.{stage}" in modules


def test_the_check_sees_a_flask_import() -> None:
    tree = ast.parse("from flask import current_app\nimport werkzeug.utils\n"
                     "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import flask_wtf\n")
    assert {name for name in runtime_imports(tree) if is_web(name)} == {"flask",
                                                                          "werkzeug.utils"}


def test_every_domain_package_is_walked() -> None:
    modules = domain_modules()
    assert {"geoapp.risk.lookup", "geoapp.ogc.collections", "geoapp.db.queries.lookup",
            "geoapp.users.audit", "geoapp.inputs.params"} <= set(modules)


@pytest.mark.parametrize("name", domain_modules())
def test_domain_module_imports_nothing_from_flask(name: str) -> None:
    module = importlib.import_module(name)
    imported = runtime_imports(ast.parse(inspect.getsource(module)))
    assert not {found for found in imported if is_web(found)}


def view_modules() -> list[str]:
    """The blueprint modules: every module of geoapp.web.api and geoapp.web.pages."""
    return [name for package in ("web.api", "web.pages") for name in package_modules(package)
            if not name.endswith((".api", ".pages"))]


def imported_names(tree: ast.AST) -> set[str]:
    """Dotted names an AST imports: modules, and `module.name` of each `from module import`."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def other_views_imported(name: str, tree: ast.AST, views: set[str]) -> set[str]:
    """View modules that module `name` imports (as a module or from its package)."""
    return {found for found in imported_names(tree) if found in views and found != name}


def test_the_view_check_sees_a_view_importing_a_view() -> None:
    views = set(view_modules())
    tree = ast.parse("from geoapp.web.api.features import api_url\nfrom geoapp.web.api import bp\n"
                     "from geoapp.web.api import exports as export_views\n")
    assert other_views_imported("geoapp.web.api.tiles", tree, views) == {
        "geoapp.web.api.features", "geoapp.web.api.exports"}


@pytest.mark.parametrize("name", view_modules())
def test_a_view_imports_no_other_view(name: str) -> None:
    # Shared view code belongs in the toolkit (geoapp.web.http) or the domain, not in a view.
    views = set(view_modules())
    tree = ast.parse(inspect.getsource(importlib.import_module(name)))
    assert not other_views_imported(name, tree, views)
