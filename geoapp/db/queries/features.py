"""Zones as OGC API features: spatial filters, pages in PostGIS-made GeoJSON, counts,
and the data version behind ETags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal

from geoapp.db import compiled
from geoapp.db.models import Dataset, DataVersion, FloodZone, FloodZonePiece
from geoapp.db.queries.scope import dataset_is_active
from geoapp.db.queries.shapes import SRID, envelope


def zones_intersecting(shape: ColumnElement[Any], *, shape_is_box: bool = False
                       ) -> ColumnElement[bool]:
    """Zones that intersect a shape: small zones tested as they are, large ones through their
    small pieces.

    The candidates come from the zones' own spatial index. A zone of at most
    OVERVIEW_MIN_POINTS vertices (it has no overview) is tested directly, one cheap test. A
    large zone is tested through its pieces (a probe of its own pieces, stopping at the first
    that intersects; OFFSET 0 keeps the planner from hashing every piece in the shape
    instead), unless the shape is a box that holds the zone's whole bounding box. Collecting
    the pieces in the shape first cost 77,000 pieces for the 3,900 zones of a 20 km box on a
    map of 60 zones cut into 11,000 pieces each: 68 ms against 11 ms this way.

    The ids are collected into an array by an InitPlan, evaluated once. As a plain `IN`
    (a semi join) the planner, asked for a page in id order, may walk the primary key and
    test every zone of the table (it did: a window count over the page hides that every row
    is needed); every element of the array is then a probe of the primary key.
    """
    # A table alias, not an ORM one: this is built for every request, and adapting the
    # mapped attributes to an ORM alias took most of the 1 ms it cost.
    candidate = FloodZone.__table__.alias("candidate").c
    pieces = FloodZonePiece.__table__.c
    piece_hit = (
        select(literal_column("1"))
        .where(pieces.zone_id == candidate.id, func.ST_Intersects(pieces.geom, shape))
        .offset(0)
        .exists()
    )
    large_zone_hit = or_(candidate.geom.op("@")(shape), piece_hit) if shape_is_box else piece_hit
    ids = select(candidate.id).where(
        candidate.geom.op("&&")(shape),
        case((candidate.geom_overview.is_(None), func.ST_Intersects(candidate.geom, shape)),
             else_=large_zone_hit),
    )
    return FloodZone.id == func.any(func.array(ids.scalar_subquery()))


def zones_intersecting_bbox(bbox: tuple[float, float, float, float], srid: int
                            ) -> ColumnElement[bool]:
    """Zones intersecting a bbox given in ``srid`` coordinates."""
    # Reprojected, a box is a quadrilateral in general: its bounding box says too much.
    return zones_intersecting(envelope(bbox, srid), shape_is_box=srid == SRID)


def zones_intersecting_geojson(geojson: str) -> ColumnElement[bool]:
    """Zones intersecting a GeoJSON geometry in CRS84 (bound as a parameter)."""
    return zones_intersecting(
        func.ST_SetSRID(func.ST_GeomFromGeoJSON(geojson, type_=Geometry), SRID, type_=Geometry)
    )


def property_matches(column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """A queryable equal to a value, or to one of several (`IN`)."""
    return column == values[0] if len(values) == 1 else column.in_(values)


def effective_between(start: dt.date | None, end: dt.date | None) -> list[ColumnElement[bool]]:
    """Zones of datasets effective within a date range (either end may be open)."""
    where: list[ColumnElement[bool]] = []
    if start is not None:
        where.append(Dataset.effective_date >= start)
    if end is not None:
        where.append(Dataset.effective_date <= end)
    return where


# The bind parameter of `one_zone`: the single-item statement is built once per output.
ZONE_ID = "zone_id"


def one_zone() -> ColumnElement[bool]:
    """The zone whose id is bound as `zone_id`."""
    return FloodZone.id == bindparam(ZONE_ID, type_=BigInteger)


def sort_ordering(order_by: Sequence[tuple[Any, bool]]) -> list[Any]:
    """ORDER BY terms of a page: the sort keys, missing values last either way, then the id."""
    # Missing values last either way: "-static_bfe" should start with the highest BFE.
    return [
        *((column.desc() if descending else column.asc()).nulls_last()
          for column, descending in order_by),
        FloodZone.id.asc(),
    ]


def after_row(order_by: Sequence[tuple[Any, bool]], values: Sequence[Any], last_id: int
              ) -> ColumnElement[bool]:
    """Rows that sort after a given row (its sort values and id): the keyset of `next`.

    Spelled as an OR of prefixes (k1 beyond v1, or k1 = v1 and k2 beyond v2, ...) because the
    keys may mix directions and hold NULLs (sorted last), which a row comparison cannot say;
    with the default order it is just ``id > :last_id``, a range scan of the primary key.
    """
    alternatives: list[ColumnElement[bool]] = []
    equal_so_far: list[ColumnElement[bool]] = []
    for (column, descending), value in zip(order_by, values, strict=True):
        if value is None:
            # NULLs come last: after a NULL, only other NULLs, ordered by the later keys.
            equal_so_far.append(column.is_(None))
            continue
        # Bound with the column's type: SQLAlchemy compares no Python bool with < or >. A
        # bind parameter (a page template's) is used as it is.
        bound = value if isinstance(value, ColumnElement) else literal(value, column.type)
        beyond = column < bound if descending else column > bound
        alternatives.append(and_(*equal_so_far, or_(beyond, column.is_(None))))
        equal_so_far.append(column == bound)
    alternatives.append(and_(*equal_so_far, FloodZone.id > last_id))
    return or_(*alternatives)


# The column of `zone_page` rows that counts every matching row.
MATCHED = "matched"


def zone_page(
    *,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[tuple[Any, bool]],
    limit: int,
    offset: int,
    count_matched: bool = False,
) -> Select[Any]:
    """The ids (and sort keys) of one page, in order: rows are chosen before any GeoJSON is made.

    OFFSET then skips bare index entries, not features turned into text and thrown away. With
    ``count_matched``, every row also carries ``matched``, the number of rows meeting `where`
    (a window count, taken before LIMIT and OFFSET): the filter runs once for the page and its
    count, not once for each.
    """
    sort_keys = [column.label(f"sort_{index}") for index, (column, _) in enumerate(order_by)]
    if count_matched:
        sort_keys.append(func.count().over().label(MATCHED))
    return (
        select(FloodZone.id, *sort_keys)
        .join(FloodZone.dataset)
        .where(*where)
        .order_by(*sort_ordering(order_by))
        .limit(limit)
        .offset(offset)
    )


def zone_features(
    *,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[tuple[Any, bool]],
    properties: dict[str, Any],
    srid: int,
    lat_first: bool,
    precision: int,
    simplify: float | None,
    skip_geometry: bool,
    page: Select[Any] | None = None,
) -> Select[Any]:
    """Zones as (id, GeoJSON geometry text, properties JSON text), both made by PostGIS.

    Geometry is transformed, simplified (in output units) and axis-swapped in the database,
    so Python only concatenates text and memory does not grow with the page size. With a
    ``page`` (from `zone_page`), only the zones it picked are turned into text, in its order.
    """
    geometry_text: ColumnElement[Any]
    if skip_geometry:
        geometry_text = literal_column("NULL")
    else:
        geom: ColumnElement[Any] = FloodZone.geom
        if srid != SRID:
            geom = func.ST_Transform(geom, srid, type_=Geometry)
        if simplify:
            geom = func.ST_SimplifyPreserveTopology(geom, simplify, type_=Geometry)
        if lat_first:
            geom = func.ST_FlipCoordinates(geom, type_=Geometry)
        geometry_text = func.ST_AsGeoJSON(geom, precision)
    pairs: list[Any] = []
    for name, column in properties.items():
        pairs += [literal(name, String), column]
    properties_text = cast(func.json_build_object(*pairs), Text)
    statement = select(
        FloodZone.id, geometry_text.label("geometry"), properties_text.label("properties")
    ).join(FloodZone.dataset)
    if page is None:
        return statement.where(*where).order_by(*sort_ordering(order_by))
    picked = page.subquery("page")
    # The page's own sort keys order the result: the same values, already computed.
    ordering = [
        (picked.c[f"sort_{index}"].desc() if descending
         else picked.c[f"sort_{index}"].asc()).nulls_last()
        for index, (_, descending) in enumerate(order_by)
    ]
    extra = [picked.c[f"sort_{index}"] for index in range(len(order_by))]
    if MATCHED in picked.c:
        extra.append(picked.c[MATCHED])
    return (
        statement.join(picked, picked.c.id == FloodZone.id)
        .add_columns(*extra)
        .order_by(*ordering, picked.c.id)
    )


def zone_count(where: Sequence[ColumnElement[bool]]) -> Select[tuple[int]]:
    """How many zones match some conditions."""
    return select(func.count(FloodZone.id)).join(FloodZone.dataset).where(*where)


class Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON)`` of a statement: compiled once per shape, like any statement
    (SQLAlchemy's cache), with its values bound, never formatted into the SQL."""

    inherit_cache = True
    _traverse_internals = [("statement", InternalTraversal.dp_clauseelement)]

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement


@compiles(Explain)
def _compile_explain(element: Explain, compiler: Any, **kw: Any) -> str:
    sql = "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)
    # What EXPLAIN returns is one plan, not the statement's columns: rows are read by
    # position, as for textual SQL.
    compiler._result_columns = []
    return sql


def estimated_rows(session: Any, statement: Select[Any]) -> float:
    """The planner's row estimate for a query's input, from EXPLAIN, without running it."""
    plan = session.connection().execute(Explain(statement)).scalar()
    node = plan[0]["Plan"]
    # An aggregate's own estimate is 1 row: look at what feeds it.
    while node.get("Node Type") == "Aggregate" and node.get("Plans"):
        node = node["Plans"][0]
    return float(node.get("Plan Rows", 0))


def active_date_range() -> Select[Any]:
    """Earliest and latest effective dates of the active datasets."""
    return select(func.min(Dataset.effective_date), func.max(Dataset.effective_date)).where(
        dataset_is_active()
    )


# The tables whose changes change what the API serves (which zones, in which datasets).
SERVED_TABLES = ("flood_zones", "datasets")


@lru_cache(maxsize=1)
def data_version() -> Select[Any]:
    """One change counter (the sum of the tables' counters, which only grow) and the last
    change time of the served data, for ETags and Last-Modified."""
    return select(
        func.coalesce(func.sum(DataVersion.version), 0).label("version"),
        func.max(DataVersion.changed_at).label("changed_at"),
    ).where(or_(*(DataVersion.name == table for table in SERVED_TABLES)))


def with_data_version(statement: Select[Any]) -> Select[Any]:
    """A statement with the served data's version and last change (``data_version()``) after
    every row's columns: a read and its ETag in one round trip instead of two."""
    served = data_version().subquery("served")
    return statement.join(served, true()).add_columns(served.c.version, served.c.changed_at)


def current_data_version(session: Any) -> tuple[int, Any]:
    """(version, changed_at) of the served data, read with ``data_version()``."""
    # Run before nearly every read: straight on the driver's cursor (geoapp/db/compiled.py);
    # SQLAlchemy's execution layer was as much as the statement's own round trip.
    [row] = compiled.run(session.connection(), data_version(), {})
    return int(row.version), row.changed_at
