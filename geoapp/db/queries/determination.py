"""What a determination adds to the zones at a point: panel, community, LOMRs, CBRS/OPA, the
BFE lines and cross sections around it, the distance to the SFHA boundary, the citations.

One statement (`point_context`), one row of JSON columns, each a scalar subquery probing one
layer's GiST index around the point; it is compiled once per scope and prepared on the server
like the zone lookup (geoapp/db/compiled.py). Bind parameters: `context_params`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    DateTime,
    Float,
    Integer,
    Select,
    and_,
    bindparam,
    cast,
    exists,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)

from geoapp.db import compiled
from geoapp.db.models import (
    PACKAGE_MODELS,
    BfeLine,
    CbrsUnit,
    CommunityInfo,
    CrossSection,
    Dataset,
    DataVersion,
    FirmPanel,
    FloodZone,
    FloodZonePiece,
    Lomr,
    PackagePiece,
    PoliticalArea,
)
from geoapp.db.queries import lookup as lookup_sql
from geoapp.db.queries import rasters as rasters_sql
from geoapp.db.queries.lookup import GEOGRAPHY, SearchBox, bound_point, box_param
from geoapp.db.queries.scope import ACTIVE, Scope, dataset_in_scope
from geoapp.db.queries.shapes import point

# Zones whose flood is given as a depth: their BFE is never estimated from lines.
DEPTH_ZONES = ("AO",)
# Lines (BFE lines, cross sections) offered to the interpolation, nearest first.
LINE_CANDIDATES = 8
# The FEMA layer of each package table, as `package_pieces.layer` names it.
LAYER_OF_MODEL = {model: layer for layer, model in PACKAGE_MODELS.items()}
# WGS84's first eccentricity squared.
WGS84_E2 = 0.00669437999014
# Planar-nearest pieces outside the SFHA measured on the spheroid for the boundary distance.
BOUNDARY_CANDIDATES = 4
# How near (degrees, about 1 m) a line must come to a zone to count as crossing it.
LINE_TOUCH_DEGREES = 1e-5
# LOMR statuses that mean the letter is no longer in force.
LOMR_NOT_IN_FORCE = ("SUPERSEDED", "CANCELLED", "CANCELED", "INACTIVE", "WITHDRAWN")
EMPTY_JSON_ARRAY = literal_column("'[]'::json")


def json_object(*pairs: Any) -> ColumnElement[Any]:
    """json_build_object of (key, value) pairs, the keys as SQL literals: bound keys would be
    parameters of unknown type, which PostgreSQL cannot PREPARE."""
    arguments: list[Any] = []
    for key, value in zip(pairs[::2], pairs[1::2], strict=True):
        arguments += [literal_column(f"'{key}'"), value]
    return func.json_build_object(*arguments)


def json_list(row: ColumnElement[Any], statement: Select[Any]) -> ColumnElement[Any]:
    """A scalar subquery: the JSON array of `row` over the statement's rows, in its order."""
    rows = statement.add_columns(row.label("item")).subquery()
    return select(func.coalesce(func.json_agg(rows.c.item), EMPTY_JSON_ARRAY)).scalar_subquery()


def in_scope(model: Any, scope: Scope) -> Select[Any]:
    """A statement over a package layer joined to its datasets in scope, newest map first."""
    return (select().select_from(model).join(Dataset, Dataset.id == model.dataset_id)
            .where(dataset_in_scope(scope))
            .order_by(Dataset.effective_date.desc().nulls_last(), Dataset.id.desc(), model.id))


def covered_by_pieces(model: Any, probe: ColumnElement[Any]) -> ColumnElement[bool]:
    """Rows of a polygon layer whose pieces (`package_pieces`) cover a point: each piece has
    at most 128 vertices, where the whole polygon may have 100,000."""
    layer = LAYER_OF_MODEL[model]
    # Correlated to whatever the probe comes from (the points of a batch, say).
    return model.id.in_(select(PackagePiece.row_id).where(
        PackagePiece.layer == literal_column(f"'{layer}'"),
        func.ST_Covers(PackagePiece.geom, probe)).correlate_except(PackagePiece))


def covering(model: Any, scope: Scope, limit: int = 10) -> Select[Any]:
    """Rows of a polygon layer covering the bound point."""
    return in_scope(model, scope).where(covered_by_pieces(model, bound_point())).limit(limit)


def panels(scope: Scope) -> ColumnElement[Any]:
    """The FIRM panels covering the point."""
    p = FirmPanel
    row = json_object(
        "dataset_id", p.dataset_id, "firm_pan", p.firm_pan, "panel", p.panel,
        "suffix", p.suffix, "eff_date", p.eff_date, "panel_typ", p.panel_typ,
        "pnp_reason", p.pnp_reason, "dfirm_id", p.dfirm_id)
    return json_list(row, covering(p, scope))


def communities(scope: Scope) -> ColumnElement[Any]:
    """The communities (S_POL_AR) covering the point, with their L_COMM_INFO dates."""
    a, c = PoliticalArea, CommunityInfo
    row = json_object(
        "dataset_id", a.dataset_id, "cid", a.cid, "comm_no", a.comm_no,
        "name", a.pol_name1, "name2", a.pol_name2, "name3", a.pol_name3,
        "co_fips", a.co_fips, "st_fips", a.st_fips, "area_not_included", a.ani_tf,
        "identified", c.in_id_dat, "entered_nfip", c.in_nfip_dt, "first_firm", c.in_frm_dat,
        "current_effective_map", c.recent_dat)
    statement = covering(a, scope).outerjoin(
        c, and_(c.dataset_id == a.dataset_id, c.com_nfo_id == a.com_nfo_id))
    return json_list(row, statement)


def as_of_day() -> ColumnElement[Any]:
    """The day a determination is made for: the bound `as_of`, else today."""
    return func.coalesce(bindparam("as_of", type_=Date), func.current_date())


def lomrs(scope: Scope) -> ColumnElement[Any]:
    """The LOMRs in force at the point on the `as_of` day."""
    m = Lomr
    row = json_object(
        "dataset_id", m.dataset_id, "case_no", m.case_no, "eff_date", m.eff_date,
        "status", m.status, "lomr_id", m.lomr_id)
    statement = covering(m, scope).where(
        or_(m.eff_date.is_(None), m.eff_date <= as_of_day()),
        or_(m.status.is_(None), func.upper(m.status).op("NOT IN")(literal_column(
            "(" + ", ".join(f"'{status}'" for status in LOMR_NOT_IN_FORCE) + ")"))))
    return json_list(row, statement)


def cbrs(scope: Scope) -> ColumnElement[Any]:
    """The CBRS units and Otherwise Protected Areas covering the point."""
    u = CbrsUnit
    row = json_object(
        "dataset_id", u.dataset_id, "cbrs_id", u.cbrs_id, "cbrs_typ", u.cbrs_typ,
        "cbrs_dt", u.cbrs_dt)
    return json_list(row, covering(u, scope))


def zone_param() -> ColumnElement[Any]:
    """The zone whose BFE is to be estimated (NULL: none is)."""
    return bindparam("bfe_zone_id", type_=BigInteger)


def lines_across_zone(model: Any, elevation: Any,
                      zone: ColumnElement[Any] | None = None) -> ColumnElement[Any]:
    """Lines of the zone's dataset with an elevation, crossing the zone within the line box,
    nearest first: the candidates to bracket the point. The zone is bound as `bfe_zone_id`
    unless given."""
    target = bound_point()
    zone = zone_param() if zone is None else zone
    closest = func.ST_ClosestPoint(model.geom, target, type_=Geometry)
    row = json_object(
        "id", model.id, "elevation", elevation, "len_unit", model.len_unit,
        "v_datum", model.v_datum,
        "distance_m", func.ST_Distance(cast(model.geom, GEOGRAPHY), cast(target, GEOGRAPHY)),
        "closest_lon", func.ST_X(closest), "closest_lat", func.ST_Y(closest),
        "label", model.bfe_ln_id if model is BfeLine else func.coalesce(
            model.xs_ltr, model.xs_ln_id))
    # FEMA ends BFE lines on the zone's edge: a line that only touches it, by a rounding
    # error of the coordinates, still belongs to the zone.
    crosses_zone = exists().where(
        FloodZonePiece.zone_id == zone,
        func.ST_DWithin(FloodZonePiece.geom, model.geom, LINE_TOUCH_DEGREES))
    statement = (
        select().select_from(model)
        .where(zone.is_not(None),
               model.dataset_id == select(FloodZone.dataset_id)
               .where(FloodZone.id == zone).scalar_subquery(),
               elevation.is_not(None),
               model.geom.op("&&")(box_param("lines")),
               crosses_zone)
        .order_by(model.geom.op("<->", return_type=Float)(target))
        .limit(LINE_CANDIDATES))
    return json_list(row, statement)


def sfha_boundary_distance(scope: Scope,
                           inside: ColumnElement[bool] | None = None) -> ColumnElement[Any]:
    """Geodesic metres from a point inside the SFHA to the nearest land outside it: the
    nearest piece of a zone in scope that is not high risk (run only when `inside_sfha` is
    bound 1; an integer, as a boolean parameter would need SQLAlchemy's processing).

    Zones tile a map, so the nearest such piece is across the SFHA boundary. A KNN walk of the
    pieces' index finds a few planar-nearest candidates in the boundary box; the smallest of
    their geodesic distances is the answer (NULL: none within the box's reach).
    """
    target = bound_point()
    # The spheroid distance to a polygon of a hundred vertices costs milliseconds; the nearest
    # point is found in a locally conformal plane (longitude scaled by `metric_kx`), and only
    # the distance between the two points is measured on the spheroid.
    kx = bindparam("metric_kx", type_=Float)
    scaled_closest = func.ST_ClosestPoint(func.ST_Scale(FloodZonePiece.geom, kx, 1.0),
                                          func.ST_Scale(target, kx, 1.0), type_=Geometry)
    closest = func.ST_Scale(scaled_closest, 1.0 / kx, 1.0, type_=Geometry)
    distance = func.ST_Distance(cast(closest, GEOGRAPHY), cast(target, GEOGRAPHY), type_=Float)
    nearest = (
        select(distance.label("distance_m"))
        .select_from(FloodZonePiece)
        .join(FloodZone, FloodZone.id == FloodZonePiece.zone_id)
        .join(Dataset, Dataset.id == FloodZone.dataset_id)
        .where(bindparam("inside_sfha", type_=Integer) == 1 if inside is None else inside,
               FloodZonePiece.risk_status.not_in([literal_column("'high_risk'"),
                                                  literal_column("'unmapped'")]),
               FloodZonePiece.geom.op("&&")(box_param("boundary")), dataset_in_scope(scope))
        .order_by(FloodZonePiece.geom.op("<->", return_type=Float)(target))
        .limit(BOUNDARY_CANDIDATES)
        .subquery()
    )
    return select(func.min(nearest.c.distance_m)).scalar_subquery()


def layers_present(scope: Scope) -> ColumnElement[Any]:
    """Which package layers the datasets in scope have at all (for the reasons of nulls)."""
    scoped = select(Dataset.id).where(dataset_in_scope(scope))
    pairs: list[Any] = []
    for name, model in (("S_FIRM_PAN", FirmPanel), ("S_POL_AR", PoliticalArea),
                        ("S_LOMR", Lomr), ("S_CBRS", CbrsUnit), ("S_BFE", BfeLine),
                        ("S_XS", CrossSection)):
        pairs += [name, exists().where(model.dataset_id.in_(scoped))]
    return json_object(*pairs)


def citations(scope: Scope) -> ColumnElement[Any]:
    """Every dataset in scope as a citation: name, version number, dates, source checksum."""
    same_name = Dataset.__table__.alias("same_name")
    version = (select(func.count()).select_from(same_name)
               .where(same_name.c.name == Dataset.name, same_name.c.id <= Dataset.id)
               .scalar_subquery())
    row = json_object(
        "id", Dataset.id, "name", Dataset.name, "version", version,
        "effective_date", Dataset.effective_date, "imported_at", Dataset.imported_at,
        "source_filename", Dataset.source_filename, "source_sha256", Dataset.source_sha256,
        "study", Dataset.study_info)
    statement = select().select_from(Dataset).where(dataset_in_scope(scope)).order_by(Dataset.id)
    return json_list(row, statement)


CONTEXT_COLUMNS = ("panels", "communities", "lomrs", "cbrs", "bfe_lines", "cross_sections",
                   "sfha_boundary_m", "datasets_version", "datasets_changed_at")


def datasets_version() -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The datasets table's change counter and time: the key of the catalog (`catalog`)
    a process keeps, as it changes with every import, retirement and deletion."""
    version = select(DataVersion.version, DataVersion.changed_at).where(
        DataVersion.name == literal_column("'datasets'"))
    return (version.with_only_columns(DataVersion.version).scalar_subquery()
            .label("datasets_version"),
            version.with_only_columns(DataVersion.changed_at).scalar_subquery()
            .label("datasets_changed_at"))


def context_columns(scope: Scope, bfe_zone: ColumnElement[Any] | None = None,
                    inside: ColumnElement[bool] | None = None) -> list[ColumnElement[Any]]:
    """The determination's columns at the point (`CONTEXT_COLUMNS`), the BFE zone and
    "inside the SFHA" bound as parameters unless given as expressions."""
    return [
        panels(scope).label("panels"),
        communities(scope).label("communities"),
        lomrs(scope).label("lomrs"),
        cbrs(scope).label("cbrs"),
        lines_across_zone(BfeLine, BfeLine.elev, bfe_zone).label("bfe_lines"),
        lines_across_zone(CrossSection, CrossSection.wsel_reg, bfe_zone)
        .label("cross_sections"),
        sfha_boundary_distance(scope, inside).label("sfha_boundary_m"),
        *datasets_version(),
    ]


@lru_cache(maxsize=256)
def catalog(scope: Scope = ACTIVE) -> Select[Any]:
    """What does not depend on the point, read once per datasets version: which package
    layers the maps in scope have (`layers`), their citations (`citations`) and their raster
    layers (`rasters`)."""
    return select(layers_present(scope).label("layers"), citations(scope).label("citations"),
                  rasters(scope).label("rasters"), *datasets_version())


@lru_cache(maxsize=1)
def catalog_version() -> Select[Any]:
    """The datasets version alone (`datasets_version`): which kept catalog is current."""
    return select(*datasets_version())


def rasters(scope: Scope) -> ColumnElement[Any]:
    """The raster layers in force on the scope's day (DEMs, depth and water-surface grids) as
    a JSON array. `dataset=` picks the flood map, not the terrain: rasters are datasets of
    their own, and a determination pinned to one map still stands on the ground."""
    return json_list(json_object(*rasters_sql.raster_fields()),
                     rasters_sql.rasters_in_scope(Scope(as_of=scope.as_of)))


@lru_cache(maxsize=256)
def point_context(scope: Scope = ACTIVE) -> Select[Any]:
    """One row of `CONTEXT_COLUMNS`: panels, communities, lomrs, cbrs, bfe_lines,
    cross_sections (JSON arrays), sfha_boundary_m, and the datasets version of the catalog.
    Parameters: `context_params`."""
    return compiled.generic_plan(select(*context_columns(scope)))


@lru_cache(maxsize=256)
def point_report_with_context(scope: Scope = ACTIVE) -> Select[Any]:
    """A lookup and its determination in one statement and one round trip.

    The rows of `lookup.point_report` (context columns null), then one row with
    ``is_context`` true: the columns of `point_context`, taking the BFE zone and "inside the
    SFHA" from the covering zones themselves. Parameters: those of `nearest_high_risk_params`
    and of `context_params` (whose zone and inside values it does not read).
    """
    parts = lookup_sql.point_report_parts(scope)
    covering = parts.covering
    high_risk = covering.c.risk_status == literal_column("'high_risk'")
    deciding = (select(covering.c.zone_id, covering.c.static_bfe, covering.c.fld_zone)
                .where(high_risk)
                .order_by(covering.c.effective_date.desc().nulls_last(),
                          covering.c.dataset_name, covering.c.zone_id)
                .limit(1).subquery("deciding"))
    # As `risk.determination.needs_estimate`: the deciding zone, in the SFHA, has no static
    # BFE and is not a depth zone.
    bfe_zone = (select(deciding.c.zone_id)
                .where(deciding.c.static_bfe.is_(None),
                       deciding.c.fld_zone.not_in([literal_column(f"'{zone}'")
                                                   for zone in DEPTH_ZONES]))
                .scalar_subquery())
    # Typed nulls: PostgreSQL unites two bare NULLs as text, which json then does not match.
    # (A literal json cast, so that no SQLAlchemy JSON type wants to decode the column.)
    typed_nulls = {"sfha_boundary_m": null().cast(Float),
                   "datasets_version": null().cast(BigInteger),
                   "datasets_changed_at": null().cast(DateTime(timezone=True))}
    no_context = [typed_nulls.get(name, literal_column("NULL::json")).label(name)
                  for name in CONTEXT_COLUMNS]
    zones = parts.zones.add_columns(*no_context, false().label("is_context"))
    nearest = parts.nearest.add_columns(*no_context, false().label("is_context"))
    zone_columns = list(parts.zones.selected_columns)
    context = select(
        *[null().cast(column.type).label(column.key) for column in zone_columns],
        *context_columns(scope, bfe_zone, parts.high_risk()),
        true().label("is_context"),
    )
    rows = union_all(zones, nearest, context).subquery("report")
    return compiled.generic_plan(select(*rows.c).order_by(
        rows.c.is_context, *lookup_sql.report_order(rows)))


def box_values(prefix: str, box: SearchBox | None) -> dict[str, float | None]:
    """The bind values of a `box_param` (all None: an empty box)."""
    names = ("xmin", "ymin", "xmax", "ymax")
    values = (box.xmin, box.ymin, box.xmax, box.ymax) if box else (None,) * 4
    return {f"{prefix}_{name}": value for name, value in zip(names, values, strict=True)}


def metric_kx(lat: float) -> float:
    """How much a degree of longitude is worth against a degree of latitude at `lat` on the
    WGS84 ellipsoid (N·cos φ / M): the plane where nearest points are found locally."""
    phi = math.radians(max(min(lat, 89.9), -89.9))
    e2 = WGS84_E2
    w2 = 1.0 - e2 * math.sin(phi) ** 2
    return math.cos(phi) * w2 / (1.0 - e2)


def context_params(lon: float, lat: float, as_of: dt.date | None, bfe_zone_id: int | None,
                   lines_box: SearchBox | None, inside_sfha: bool,
                   boundary_box: SearchBox | None) -> dict[str, Any]:
    """Bind parameters of `point_context`."""
    return {"lon": lon, "lat": lat, "as_of": as_of, "bfe_zone_id": bfe_zone_id,
            "metric_kx": metric_kx(lat),
            "inside_sfha": int(inside_sfha and boundary_box is not None),
            **box_values("lines", lines_box), **box_values("boundary", boundary_box)}


def panels_and_communities_at_points(lons: Sequence[float], lats: Sequence[float],
                                     scope: Scope, first_ordinal: int = 0) -> Select[Any]:
    """For many points: (ordinal, firm_pan, panel and community columns) of the newest map's
    panel and community covering each point (NULL where none does)."""
    points = lookup_sql.points_table(lons, lats, first_ordinal)
    probe = point(points.c.lon, points.c.lat)

    def first_covering(model: Any, *columns: Any, name: str) -> Any:
        # From the covering pieces straight to their rows: one row is kept, so a point on
        # the edge between two pieces of a polygon needs no de-duplication (`IN`).
        return (select(*columns).select_from(PackagePiece)
                .join(model, model.id == PackagePiece.row_id)
                .join(Dataset, Dataset.id == model.dataset_id)
                .where(PackagePiece.layer == literal_column(f"'{LAYER_OF_MODEL[model]}'"),
                       func.ST_Covers(PackagePiece.geom, probe), dataset_in_scope(scope))
                .order_by(Dataset.effective_date.desc().nulls_last(), Dataset.id.desc())
                .limit(1).lateral(name))

    panel = first_covering(FirmPanel, FirmPanel.firm_pan, FirmPanel.eff_date.label("panel_date"),
                           name="panel")
    community = first_covering(PoliticalArea, PoliticalArea.cid,
                               PoliticalArea.pol_name1.label("community"), name="community")
    return (
        select(points.c.ordinal, panel.c.firm_pan, panel.c.panel_date, community.c.cid,
               community.c.community)
        .select_from(points)
        .outerjoin(panel, true())
        .outerjoin(community, true())
        .order_by(points.c.ordinal)
    )

