"""An NFHL package's other layers as read-only OGC API - Features collections.

One kind of collection, driven by a table and its typed columns (``geoapp.nfhl.layers``):
FIRM panels, communities (political areas with their NFIP dates), LOMRs, BFE lines, cross
sections and CBRS units. Each answers pages of its features (limit/offset, a bbox, equality
on its queryables), a feature by id and its queryables, for the datasets in scope only. The
SQL is in ``geoapp.db.queries.layer_features``; no Flask here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from geoapp.db.models import BfeLine, CbrsUnit, CrossSection, FirmPanel, Lomr
from geoapp.db.queries import features as features_sql
from geoapp.db.queries import layer_features as layer_sql
from geoapp.db.queries import scope as scope_sql
from geoapp.errors import NotFound
from geoapp.geo.crs import CRS84, ApiCrs
from geoapp.inputs.params import PG_INTEGER_MAX
from geoapp.nfhl import layers as nfhl_layers
from geoapp.nfhl.layers import FieldKind, FieldSpec
from geoapp.ogc.features import FETCH_ROWS, Queryable, reads_whole

# What the typed columns are, for their titles in the queryables (FEMA's field name after).
TITLES = {
    "dfirm_id": "Study id",
    "firm_pan": "FIRM panel number",
    "panel": "Panel number",
    "suffix": "Panel suffix",
    "eff_date": "Effective date",
    "panel_typ": "Panel type",
    "pnp_reason": "Why the panel is not printed",
    "cid": "NFIP community id",
    "comm_no": "Community number",
    "pol_name1": "Community name",
    "pol_name2": "Second name",
    "pol_name3": "Third name",
    "co_fips": "County FIPS code",
    "st_fips": "State FIPS code",
    "com_nfo_id": "Community information key",
    "ani_tf": "Area not included",
    "in_id_dat": "Date the community's hazards were first identified",
    "in_nfip_dt": "Date the community entered the NFIP",
    "in_frm_dat": "Date of the community's first FIRM",
    "recent_dat": "Date of the community's current effective map",
    "lomr_id": "LOMR id",
    "case_no": "Case number",
    "status": "Status",
    "scale": "Scale",
    "bfe_ln_id": "BFE line id",
    "elev": "Base flood elevation",
    "len_unit": "Unit of length",
    "v_datum": "Vertical datum",
    "xs_ln_id": "Cross section id",
    "xs_ltr": "Cross section letter",
    "xs_ln_typ": "Cross section type",
    "wtr_nm": "Name of the water body",
    "stream_stn": "Stream station",
    "wsel_reg": "1% annual chance water-surface elevation",
    "strmbed_el": "Streambed elevation",
    "cbrs_id": "CBRS unit id",
    "cbrs_typ": "CBRS unit type",
    "cbrs_dt": "Date of the CBRS designation",
}
DATASET_ID_SCHEMA = {"type": "integer", "minimum": -PG_INTEGER_MAX - 1, "maximum": PG_INTEGER_MAX}


def field_queryable(spec: FieldSpec, column: ColumnElement[Any]) -> Queryable:
    """A typed column as a queryable: its JSON Schema follows how the field is cleaned."""
    schema: dict[str, Any]
    if spec.kind is FieldKind.NUMBER:
        schema = {"type": "number"}
    elif spec.kind is FieldKind.DATE:
        schema = {"type": "string", "format": "date"}
    elif spec.kind is FieldKind.FLAG:
        schema = {"type": "boolean"}
    else:
        schema = {"type": "string", "maxLength": spec.length}
    title = f"{TITLES.get(spec.column, spec.column)} ({spec.sources[0]})"
    return Queryable(column, schema, title)


@dataclass(frozen=True, eq=False)
class LayerCollection:
    """One layer served as a collection: the table, its typed fields, their queryables."""

    id: str
    title: str
    description: str
    item_noun: str
    # The GeoJSON type of every geometry (stored as multi-geometries).
    geometry_type: str
    source: layer_sql.LayerSource
    fields: tuple[FieldSpec, ...]
    queryables: dict[str, Queryable] = field(init=False)

    def __post_init__(self) -> None:
        found = {spec.column: field_queryable(spec, self.source.columns[spec.column])
                 for spec in self.fields}
        found["dataset_id"] = Queryable(self.source.columns["dataset_id"], DATASET_ID_SCHEMA,
                                        "Dataset id")
        object.__setattr__(self, "queryables", found)

    @property
    def properties(self) -> tuple[str, ...]:
        """The properties of every feature, in output order."""
        return tuple(self.source.property_columns())

    def extent(self, session: Session) -> dict[str, Any]:
        """The spatial extent (CRS84) of the layer's features in scope, for its metadata."""
        xmin, ymin, xmax, ymax = session.execute(layer_sql.layer_extent(
            self.source, scope_sql.dataset_in_scope(scope_sql.ACTIVE))).one()
        bbox = ([-180.0, -90.0, 180.0, 90.0] if xmin is None
                else [float(xmin), float(ymin), float(xmax), float(ymax)])
        return {"spatial": {"bbox": [bbox], "crs": CRS84.uri}}

    def queryables_schema(self, base_url: str) -> dict[str, Any]:
        """JSON Schema of the queryable properties (OGC API - Features Part 3)."""
        properties: dict[str, Any] = {
            "geometry": {
                "$ref": f"https://geojson.org/schema/{self.geometry_type}.json",
                "x-ogc-role": "primary-geometry",
            },
        }
        for name, queryable in self.queryables.items():
            properties[name] = {"title": queryable.title, **queryable.schema}
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{base_url}/collections/{self.id}/queryables",
            "type": "object",
            "title": self.title,
            "properties": properties,
            "additionalProperties": False,
        }


def layer(collection_id: str, spec: nfhl_layers.LayerSpec, model: Any, item_noun: str,
          description: str) -> LayerCollection:
    """A collection of one package layer, its properties the layer's typed columns."""
    geometry = ("MultiLineString" if spec.geometry is nfhl_layers.GeometryKind.LINE
                else "MultiPolygon")
    return LayerCollection(collection_id, spec.title, description, item_noun, geometry,
                           layer_sql.table_source(model, spec.columns()), spec.fields)


def communities() -> LayerCollection:
    """Political areas with the NFIP dates of their community (L_COMM_INFO)."""
    dates = tuple(spec for spec in nfhl_layers.COMMUNITY_INFO.fields
                  if spec.column in layer_sql.COMMUNITY_DATES)
    return LayerCollection(
        "communities", "NFIP communities",
        "Communities of the active datasets (S_POL_AR) with their NFIP dates (L_COMM_INFO)",
        "community", "MultiPolygon",
        layer_sql.community_source(nfhl_layers.POLITICAL_AREAS.columns()),
        (*nfhl_layers.POLITICAL_AREAS.fields, *dates),
    )


FIRM_PANELS = layer("firm_panels", nfhl_layers.FIRM_PANELS, FirmPanel, "FIRM panel",
                    "FIRM panel outlines of the active datasets (S_FIRM_PAN)")
COMMUNITIES = communities()
LOMRS = layer("lomrs", nfhl_layers.LOMRS, Lomr, "LOMR",
              "Letters of Map Revision of the active datasets (S_LOMR)")
BFE_LINES = layer("bfe_lines", nfhl_layers.BFE_LINES, BfeLine, "BFE line",
                  "Base flood elevation lines of the active datasets (S_BFE)")
CROSS_SECTIONS = layer("cross_sections", nfhl_layers.CROSS_SECTIONS, CrossSection,
                       "cross section", "Cross sections of the active datasets (S_XS)")
CBRS_UNITS = layer("cbrs_units", nfhl_layers.CBRS_UNITS, CbrsUnit, "CBRS unit",
                   "Coastal Barrier Resources System units and Otherwise Protected Areas "
                   "of the active datasets (S_CBRS)")
LAYERS = (FIRM_PANELS, COMMUNITIES, LOMRS, BFE_LINES, CROSS_SECTIONS, CBRS_UNITS)


@dataclass
class LayerQuery:
    """A parsed items request of a layer collection."""

    limit: int
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: ApiCrs = CRS84
    crs: ApiCrs = CRS84
    precision: int = CRS84.default_precision
    # Queryable -> the one value it must equal.
    equals: dict[str, Any] = field(default_factory=dict)


def conditions(collection: LayerCollection, query: LayerQuery) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a page: the datasets in scope, the bbox, the equalities."""
    where = [scope_sql.dataset_in_scope(scope_sql.ACTIVE)]
    if query.bbox is not None:
        where.append(layer_sql.intersecting_bbox(collection.source, query.bbox,
                                                 query.bbox_crs.srid))
    for name, value in query.equals.items():
        where.append(layer_sql.equals(collection.queryables[name].column, value))
    return where


def needs_join(collection: LayerCollection, query: LayerQuery) -> bool:
    """Whether a page filters on a property of the joined row (a community's dates)."""
    return any(name in collection.source.joined_names for name in query.equals)


@dataclass
class LayerPage:
    """One page of a layer's features, rows (id, geometry text, properties text) fetched when
    iterated (a large page through a server-side cursor, as the zones' pages)."""

    session: Session
    collection: LayerCollection
    query: LayerQuery
    counts_matched: bool
    number_matched: int | None = None
    returned: int = 0
    has_next: bool = False

    @property
    def offset(self) -> int:
        """How many matching rows come before this page."""
        return self.query.offset

    def features(self) -> Iterator[tuple[int, str | None, str]]:
        """The rows, counting them and noting whether one more page exists."""
        query, source = self.query, self.collection.source
        where = conditions(self.collection, query)
        joined = needs_join(self.collection, query)
        page = layer_sql.layer_page(source, where=where, limit=query.limit + 1,
                                    offset=query.offset, count_matched=self.counts_matched,
                                    with_joined=joined)
        statement = layer_sql.layer_features(source, page, srid=query.crs.srid,
                                             lat_first=query.crs.lat_first,
                                             precision=query.precision)
        if not reads_whole(query.limit):
            statement = statement.execution_options(yield_per=FETCH_ROWS)
        rows = self.session.connection().execute(statement)
        try:
            for index, row in enumerate(rows):
                if index == 0 and self.counts_matched:
                    self.number_matched = row[3]
                if index == query.limit:
                    self.has_next = True
                    break
                self.returned += 1
                yield row[0], row[1], row[2]
        finally:
            rows.close()
        if self.number_matched is not None:
            return
        if self.returned == 0 and self.offset > 0:
            # Past the end: only a count tells how many there are.
            if self.counts_matched:
                self.number_matched = self.session.connection().scalar(
                    layer_sql.layer_count(source, where, joined))
        elif not self.has_next:
            # The last page tells the exact total for free.
            self.number_matched = self.offset + self.returned


def items_page(session: Session, collection: LayerCollection, query: LayerQuery,
               exact_count_limit: int) -> LayerPage:
    """A page of a layer; numberMatched is exact with a bbox or when the planner expects at
    most ``exact_count_limit`` rows (as for the zones), else known on the last page only."""
    if query.bbox is not None:
        counts_matched = True
    else:
        statement = layer_sql.layer_count(collection.source, conditions(collection, query),
                                          needs_join(collection, query))
        counts_matched = features_sql.estimated_rows(session, statement) <= exact_count_limit
    return LayerPage(session, collection, query, counts_matched)


def one_item(session: Session, collection: LayerCollection, feature_id: int,
             query: LayerQuery) -> tuple[int, str | None, str]:
    """One feature of a dataset in scope, as (id, geometry text, properties text)."""
    statement = layer_sql.one_feature(
        collection.source, scope_sql.dataset_in_scope(scope_sql.ACTIVE),
        srid=query.crs.srid, lat_first=query.crs.lat_first, precision=query.precision)
    row = session.connection().execute(statement, {layer_sql.FEATURE_ID: feature_id}).first()
    if row is None:
        raise NotFound(f"no {collection.item_noun} with id {feature_id}")
    return row[0], row[1], row[2]
