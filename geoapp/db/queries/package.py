"""Statements of an NFHL package's other layers: loading them with their dataset, and cutting
their polygons into pieces for lookups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, String, func, insert, literal, select

from geoapp.db.models import PackageFeatureMixin, PackagePiece


def insert_layer_rows(model: type[PackageFeatureMixin]) -> Insert:
    """INSERT of a package layer's rows (executed with a list of column dicts)."""
    table: Any = model.__table__  # type: ignore[attr-defined]
    return insert(table)


# Pieces of a package polygon have at most this many vertices (as the zones' pieces).
PIECE_MAX_VERTICES = 128


def cut_pieces(model: type[PackageFeatureMixin], layer: str, dataset_id: int) -> Insert:
    """INSERT of the pieces of one dataset's polygons of a layer into `package_pieces`."""
    table: Any = model.__table__  # type: ignore[attr-defined]
    pieces = func.ST_Dump(func.ST_Subdivide(table.c.geom, PIECE_MAX_VERTICES)).geom
    rows = select(table.c.dataset_id, literal(layer, String), table.c.id, pieces).where(
        table.c.dataset_id == dataset_id)
    return insert(PackagePiece).from_select(["dataset_id", "layer", "row_id", "geom"], rows)
