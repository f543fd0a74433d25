"""Statements of an NFHL package's other layers: loading them with their dataset."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, insert

from geoapp.db.models import PackageFeatureMixin


def insert_layer_rows(model: type[PackageFeatureMixin]) -> Insert:
    """INSERT of a package layer's rows (executed with a list of column dicts)."""
    table: Any = model.__table__  # type: ignore[attr-defined]
    return insert(table)
