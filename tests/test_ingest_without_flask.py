"""geoapp.ingest imports nothing from Flask or the web layer: it runs in the CLI and worker too."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil

import pytest

import geoapp.ingest

WEB_ROOTS = ("flask", "werkzeug")


def ingest_modules() -> list[str]:
    """Every module of geoapp.ingest, subpackages included."""
    found = pkgutil.walk_packages(geoapp.ingest.__path__, prefix="geoapp.ingest.")
    return ["geoapp.ingest", *sorted(info.name for info in found)]


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
    root = name.split(".")[0]
    return root in WEB_ROOTS or root.startswith("flask_") or name.startswith("geoapp.web")


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


@pytest.mark.parametrize("name", ingest_modules())
def test_ingest_module_imports_nothing_from_flask(name: str) -> None:
    module = importlib.import_module(name)
    imported = runtime_imports(ast.parse(inspect.getsource(module)))
    assert not {found for found in imported if is_web(found)}
