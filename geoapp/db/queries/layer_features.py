"""An NFHL package's other layers (panels, communities, LOMRs, BFE lines, cross sections, CBRS
units) as OGC API features: pages and single features in PostGIS-made GeoJSON.

One set of builders serves every layer: a `LayerSource` names the mapped table, the typed
columns served as properties and, for the communities, the row of another table joined to
each feature. Rows answer only for datasets in scope (`scope.dataset_in_scope`), so every
statement joins the datasets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    Text,
    bindparam,
    cast,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.sql.selectable import Lateral

from geoapp.db.models import CommunityInfo, Dataset, PoliticalArea
from geoapp.db.queries.shapes import SRID, envelope


@dataclass(frozen=True, eq=False)
class LayerSource:
    """A layer's table and the columns of its features' properties, in output order.

    ``joined`` is a LATERAL subquery left-joined to every row (a community's NFIP dates);
    ``joined_names`` are the properties read from it, which a page needs the join for only
    when it filters on one of them.
    """

    model: Any
    columns: Mapping[str, ColumnElement[Any]]
    joined: Lateral | None = None
    joined_names: frozenset[str] = field(default_factory=frozenset)

    def property_columns(self) -> dict[str, ColumnElement[Any]]:
        """The properties (typed columns and dataset_id), then the verbatim attributes."""
        return {**self.columns, "attributes": self.model.attributes}


def table_source(model: Any, names: Sequence[str]) -> LayerSource:
    """A layer whose properties are columns of its own table (and its dataset's id)."""
    return LayerSource(model, {**{name: getattr(model, name) for name in names},
                               "dataset_id": model.dataset_id})


# The NFIP dates of a community (L_COMM_INFO), joined to its political area.
COMMUNITY_DATES = ("in_id_dat", "in_nfip_dt", "in_frm_dat", "recent_dat")


def community_source(names: Sequence[str]) -> LayerSource:
    """Political areas with their community's dates: the row of community_info of the same
    dataset and COM_NFO_ID (the first, should a package repeat the key), or NULLs."""
    info = (
        select(*(getattr(CommunityInfo, name) for name in COMMUNITY_DATES))
        .where(CommunityInfo.dataset_id == PoliticalArea.dataset_id,
               CommunityInfo.com_nfo_id == PoliticalArea.com_nfo_id)
        .order_by(CommunityInfo.id)
        .limit(1)
        .lateral("info")
    )
    columns = {name: getattr(PoliticalArea, name) for name in names}
    columns.update({name: info.c[name] for name in COMMUNITY_DATES})
    columns["dataset_id"] = PoliticalArea.dataset_id
    return LayerSource(PoliticalArea, columns, info, frozenset(COMMUNITY_DATES))


def _from(source: LayerSource, statement: Select[Any], with_joined: bool,
          with_datasets: bool = True) -> Select[Any]:
    """A statement over a layer joined with its datasets (for their scope) and its LATERAL
    row (for its properties)."""
    statement = statement.select_from(source.model)
    if with_datasets:
        statement = statement.join(Dataset, Dataset.id == source.model.dataset_id)
    if with_joined and source.joined is not None:
        statement = statement.outerjoin(source.joined, true())
    return statement


def layer_extent(source: LayerSource, scope: ColumnElement[bool]) -> Select[Any]:
    """(xmin, ymin, xmax, ymax) of a layer's features in scope (NULLs when it has none)."""
    box = func.ST_Extent(source.model.geom)
    return _from(source, select(func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box),
                                func.ST_YMax(box)), with_joined=False).where(scope)


def intersecting_bbox(source: LayerSource, bbox: tuple[float, float, float, float],
                      srid: int) -> ColumnElement[bool]:
    """Features intersecting a bbox given in ``srid`` coordinates: the box is transformed to
    the table's CRS (never the column), so the GiST index on geom finds the candidates."""
    return func.ST_Intersects(source.model.geom, envelope(bbox, srid))


def equals(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    """A property equal to a value."""
    return column == value


# The column of `layer_page` rows that counts every matching row.
MATCHED = "matched"


def layer_page(source: LayerSource, *, where: Sequence[ColumnElement[bool]], limit: int,
               offset: int, count_matched: bool, with_joined: bool) -> Select[Any]:
    """The ids of one page, by id: rows are chosen before any GeoJSON is made (OFFSET skips
    index entries, not features written and thrown away). With ``count_matched`` every row
    also carries ``matched``, the number of rows meeting ``where`` (a window count)."""
    columns: list[Any] = [source.model.id.label("id")]
    if count_matched:
        columns.append(func.count().over().label(MATCHED))
    statement = select(*columns).where(*where).order_by(source.model.id)
    return _from(source, statement, with_joined).limit(limit).offset(offset)


def geometry_json(geom: ColumnElement[Any], srid: int, lat_first: bool,
                  precision: int) -> ColumnElement[Any]:
    """A stored geometry as GeoJSON text in the output CRS (transformed, axes swapped)."""
    if srid != SRID:
        geom = func.ST_Transform(geom, srid, type_=Geometry)
    if lat_first:
        geom = func.ST_FlipCoordinates(geom, type_=Geometry)
    return func.ST_AsGeoJSON(geom, precision)


def properties_json(columns: Mapping[str, ColumnElement[Any]]) -> ColumnElement[Any]:
    """The properties of a feature as one JSON object text, made by PostgreSQL."""
    pairs: list[Any] = []
    for name, column in columns.items():
        pairs += [literal(name, String), column]
    return cast(func.json_build_object(*pairs), Text)


def feature_columns(source: LayerSource, srid: int, lat_first: bool,
                    precision: int) -> list[Any]:
    """(id, geometry GeoJSON text, properties JSON text) of a layer's features."""
    return [
        source.model.id,
        geometry_json(source.model.geom, srid, lat_first, precision).label("geometry"),
        properties_json(source.property_columns()).label("properties"),
    ]


def layer_features(source: LayerSource, page: Select[Any], *, srid: int, lat_first: bool,
                   precision: int) -> Select[Any]:
    """The features a page (from `layer_page`) picked, in its order: rows are (id, geometry,
    properties) and, when the page counts them, the number of matching rows."""
    picked = page.subquery("page")
    statement = select(*feature_columns(source, srid, lat_first, precision))
    if MATCHED in picked.c:
        statement = statement.add_columns(picked.c[MATCHED])
    # The page's rows are in scope already: no datasets here.
    statement = _from(source, statement, with_joined=True, with_datasets=False)
    return statement.join(picked, picked.c.id == source.model.id).order_by(picked.c.id)


# The bind parameter of `one_feature`.
FEATURE_ID = "feature_id"


def one_feature(source: LayerSource, scope: ColumnElement[bool], *, srid: int,
                lat_first: bool, precision: int) -> Select[Any]:
    """The feature whose id is bound as `feature_id`, if its dataset is in ``scope``."""
    statement = select(*feature_columns(source, srid, lat_first, precision)).where(
        source.model.id == bindparam(FEATURE_ID, type_=BigInteger), scope)
    return _from(source, statement, with_joined=True)


def layer_count(source: LayerSource, where: Sequence[ColumnElement[bool]],
                with_joined: bool) -> Select[tuple[int]]:
    """How many features of a layer match some conditions."""
    return _from(source, select(func.count()).where(*where), with_joined)
