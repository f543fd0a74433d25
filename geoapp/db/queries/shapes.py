"""Query shapes in the stored CRS: points and envelopes, from bound parameters.

Geometries are stored in EPSG:4326. Query shapes are built in, or transformed to, 4326 so
that the GiST indexes on the stored columns can be used; stored columns are never wrapped
in a function inside a WHERE clause.
"""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import ColumnElement, func

SRID = 4326


def point(lon: float, lat: float) -> ColumnElement[Any]:
    """A WGS84 point from bound parameters."""
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat, type_=Geometry), SRID, type_=Geometry)


def envelope(bbox: tuple[float, float, float, float], srid: int) -> ColumnElement[Any]:
    """A bbox as a polygon in the table's SRID: the query shape is transformed, not the column."""
    box = func.ST_MakeEnvelope(*bbox, srid, type_=Geometry)
    return box if srid == SRID else func.ST_Transform(box, SRID, type_=Geometry)
