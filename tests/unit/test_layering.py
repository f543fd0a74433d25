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
