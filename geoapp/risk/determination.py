"""Decision-grade determinations: what FEMA's Standard Flood Hazard Determination Form
(Section II) asks for at a point, from the NFHL package around the zones.

`determine` adds to a zone lookup (`lookup.PointReport`): the FIRM panel, the NFIP community,
the LOMRs in force, CBRS/OPA, the BFE (static, or estimated between the BFE lines or cross
sections that bracket the point), the distance to the SFHA boundary with the map-accuracy
flag, and the citation of every map that answered. Every missing answer carries its reason.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from geoapp.config import DEFAULTS
from geoapp.db import compiled
from geoapp.db.connections import Reads, connection_of
from geoapp.db.queries import determination as determination_sql
from geoapp.db.queries import lookup as lookup_sql
from geoapp.db.queries.lookup import search_boxes
from geoapp.db.queries.scope import ACTIVE, Scope
from geoapp.geo.vertical import parse_datum
from geoapp.nfhl.status import RiskStatus
from geoapp.risk.depth import DepthAnswer, DepthRequest, FloodElevation, RasterInfo, depth_at
from geoapp.risk.lookup import (
    DEFAULT_NEAREST_RADIUS_M,
    PointReport,
    ZoneHit,
    check_scope,
    covering_rows,
    lookup_point,
    report_from_rows,
)

# How far BFE lines and cross sections are looked for around a point (m).
BFE_SEARCH_M = 5000.0
# A point this close to a line (m) is on it: its elevation applies as it is.
ON_LINE_M = 0.5
# The boundary distance is exact up to this reach (m, at least twice the tolerance).
BOUNDARY_REACH_M = 250.0
# Zones whose BFE is given as a depth, not an elevation: no estimate from lines.
DEPTH_ZONES = frozenset(determination_sql.DEPTH_ZONES)
# FEMA's base map accuracy: the setting's default (docs/determinations.md).
DEFAULT_TOLERANCE_M = float(DEFAULTS["GEOAPP_BOUNDARY_TOLERANCE_M"])


@dataclass(frozen=True)
class Panel:
    """The FIRM panel covering the point."""

    firm_pan: str | None
    panel: str | None
    suffix: str | None
    effective_date: str | None
    panel_type: str | None
    printed: bool | None
    not_printed_reason: str | None
    dataset_id: int


@dataclass(frozen=True)
class Community:
    """The NFIP community of the point (S_POL_AR with its L_COMM_INFO dates)."""

    cid: str | None
    name: str | None
    comm_no: str | None
    county_fips: str | None
    state_fips: str | None
    entered_nfip: str | None
    identified: str | None
    first_firm: str | None
    current_effective_map: str | None
    area_not_included: bool | None
    dataset_id: int


@dataclass(frozen=True)
class LomrHit:
    """A Letter of Map Revision in force at the point."""

    case_no: str | None
    effective_date: str | None
    status: str | None
    dataset_id: int


@dataclass(frozen=True)
class CbrsHit:
    """A Coastal Barrier Resources System unit or Otherwise Protected Area at the point."""

    unit: str | None
    unit_type: str | None
    date: str | None
    dataset_id: int


@dataclass(frozen=True)
class ElevationSource:
    """A BFE line or cross section one estimate is made from."""

    kind: str  # "bfe_line" | "cross_section"
    label: str | None
    elevation: float
    distance_m: float


@dataclass(frozen=True)
class BaseFloodElevation:
    """The BFE at the point: static from the zone, or estimated between two lines; or why not."""

    value: float | None
    estimated: bool
    method: str | None
    unit: str | None
    datum: str | None
    sources: list[ElevationSource] = field(default_factory=list)
    reason: str | None = None


@dataclass(frozen=True)
class Boundary:
    """How far the SFHA boundary is, and whether that is within map accuracy."""

    distance_m: float | None
    near: bool | None
    tolerance_m: float
    farther_than_m: float | None = None


@dataclass(frozen=True)
class Citation:
    """One map that answered: what, which version, when, and the checksum of its file."""

    dataset_id: int
    name: str
    version: int
    effective_date: str | None
    imported_at: str | None
    source_filename: str | None
    source_sha256: str | None
    study: dict[str, Any] | None


@dataclass(frozen=True)
class Determination:
    """Section II of a flood hazard determination at one point, with reasons for the gaps."""

    panel: Panel | None
    community: Community | None
    lomrs: list[LomrHit]
    cbrs: CbrsHit | None
    bfe: BaseFloodElevation
    boundary: Boundary
    citations: list[Citation]
    as_of: dt.date
    reasons: dict[str, str]
    # Ground, water surface and depth per event, when asked for (geoapp.risk.depth).
    depth: DepthAnswer | None = None

    @property
    def in_cbrs(self) -> bool:
        """Whether the point is in a CBRS unit or an Otherwise Protected Area."""
        return self.cbrs is not None


def determine(session: Reads, report: PointReport, scope: Scope = ACTIVE,
              tolerance_m: float = DEFAULT_TOLERANCE_M,
              today: dt.date | None = None, depth: DepthRequest | None = None) -> Determination:
    """The determination at a report's point, from one statement (db/queries/determination)."""
    primary = report.primary_zone
    bfe_zone = primary if needs_estimate(primary) else None
    reach = boundary_reach(tolerance_m)
    params = context_params(report.lon, report.lat, scope, reach, report.in_sfha,
                            bfe_zone.zone_id if bfe_zone else None)
    row = compiled.run(connection_of(session), determination_sql.point_context(scope),
                       params)[0]
    return determination_from_row(session, report, row, scope, tolerance_m, reach, today, depth)


def lookup_and_determine(session: Reads, lon: float, lat: float, scope: Scope = ACTIVE,
                         nearest_radius_m: float = DEFAULT_NEAREST_RADIUS_M,
                         tolerance_m: float = DEFAULT_TOLERANCE_M,
                         today: dt.date | None = None, depth: DepthRequest | None = None
                         ) -> tuple[PointReport, Determination]:
    """A point's zones and its determination, in one statement and one round trip where one
    search box holds the nearest-zone radius (`determination_sql.point_report_with_context`);
    else the lookup and `determine`, one after the other."""
    boxes = search_boxes(lon, lat, nearest_radius_m) if nearest_radius_m > 0 else []
    if len(boxes) != 1:
        report = lookup_point(session, lon, lat, scope, nearest_radius_m)
        return report, determine(session, report, scope, tolerance_m, today, depth)
    check_scope(session, scope)
    reach = boundary_reach(tolerance_m)
    params = {**lookup_sql.nearest_high_risk_params(lon, lat, nearest_radius_m, boxes[0]),
              **context_params(lon, lat, scope, reach, False, None)}
    rows = compiled.run(connection_of(session),
                        determination_sql.point_report_with_context(scope), params)
    report = report_from_rows(lon, lat, rows, nearest_radius_m)
    context = next(row for row in rows if row.is_context)
    return report, determination_from_row(session, report, context, scope, tolerance_m,
                                          reach, today, depth)


@dataclass(frozen=True)
class Catalog:
    """What the maps in scope have and how they are cited: the same for every point."""

    layers: dict[str, bool]
    citations: list[Citation]
    rasters: list[RasterInfo] = field(default_factory=list)


# Catalogs by scope and datasets version (counter and time, so that a version number
# reused after a rolled-back import is not mistaken for the one cached); cleared when full.
CATALOGS: dict[tuple[Scope, int | None, dt.datetime | None], Catalog] = {}
CATALOGS_KEPT = 256


def catalog_of(session: Reads, scope: Scope, row: Any) -> Catalog:
    """The catalog of the datasets version a determination's row was read at."""
    key = (scope, row.datasets_version, row.datasets_changed_at)
    found = CATALOGS.get(key)
    if found is None:
        fresh = compiled.run(connection_of(session), determination_sql.catalog(scope), {})[0]
        found = Catalog(fresh.layers or {}, [citation_of(item) for item in fresh.citations],
                        [RasterInfo.from_json(item) for item in fresh.rasters or []])
        if len(CATALOGS) >= CATALOGS_KEPT:
            CATALOGS.clear()
        # Kept under the version it was read at (a write may have come in between).
        CATALOGS[(scope, fresh.datasets_version, fresh.datasets_changed_at)] = found
    return found


def current_catalog(session: Reads, scope: Scope) -> Catalog:
    """The catalog of the datasets in scope now: the datasets version read, the catalog read
    only when this process has not kept that version's (`catalog_of`)."""
    version = compiled.run(connection_of(session), determination_sql.catalog_version(), {})[0]
    return catalog_of(session, scope, version)


def study_datums(catalog: Catalog) -> dict[int, str | None]:
    """Each dataset's vertical datum from its study (STUDY_INFO V_DATUM): a BFE's datum where
    its zone's V_DATUM is blank."""
    return {citation.dataset_id: parse_datum((citation.study or {}).get("V_DATUM"))
            for citation in catalog.citations}


def flood_of_report(report: PointReport, datums: Mapping[int, str | None] | None = None
                    ) -> FloodElevation:
    """The static BFE (or AO depth) of a report's SFHA zone: what a batch's compact row uses
    (no estimate between BFE lines); `datums` are the studies' (`study_datums`)."""
    with_bfe = next((hit for hit in report.zones if hit.sfha and hit.static_bfe is not None),
                    None)
    primary = report.primary_zone
    depth_zone = (primary if primary is not None and primary.fld_zone in DEPTH_ZONES
                  and primary.depth is not None else None)
    source = with_bfe or depth_zone
    return FloodElevation(
        in_sfha=bool(report.in_sfha), value=with_bfe.static_bfe if with_bfe else None,
        estimated=False, unit=source.len_unit if source else None,
        datum=(parse_datum(with_bfe.v_datum) or (datums or {}).get(with_bfe.dataset.id))
        if with_bfe else None,
        zone_depth=depth_zone.depth if depth_zone else None,
        reason=None if with_bfe else "no static BFE here")


def boundary_reach(tolerance_m: float) -> float:
    """How far the distance to the SFHA boundary is measured exactly (m)."""
    return max(BOUNDARY_REACH_M, 2 * tolerance_m)


def context_params(lon: float, lat: float, scope: Scope, reach: float, inside_sfha: bool,
                   bfe_zone_id: int | None) -> dict[str, Any]:
    """The bind parameters of the determination's columns at a point."""
    line_boxes = search_boxes(lon, lat, BFE_SEARCH_M)
    boundary_boxes = search_boxes(lon, lat, reach)
    return determination_sql.context_params(
        lon, lat, scope.as_of, bfe_zone_id, line_boxes[0] if len(line_boxes) == 1 else None,
        inside_sfha, boundary_boxes[0] if len(boundary_boxes) == 1 else None)


def determination_from_row(session: Reads, report: PointReport, row: Any, scope: Scope,
                           tolerance_m: float, reach: float, today: dt.date | None = None,
                           depth: DepthRequest | None = None) -> Determination:
    """The determination from the row of the determination's columns."""
    primary = report.primary_zone
    known = catalog_of(session, scope, row)
    layers = known.layers
    reasons: dict[str, str] = {}
    answering = {hit.dataset.id for hit in report.zones}
    panel = first_of([panel_of(item) for item in row.panels], answering)
    if panel is None:
        reasons["firm_panel"] = ("no FIRM panel covers this point" if layers.get("S_FIRM_PAN")
                                 else "the maps in force here have no FIRM panel layer "
                                 "(S_FIRM_PAN)")
    community = first_of([community_of(item) for item in row.communities], answering)
    if community is None:
        reasons["community"] = ("no community area (S_POL_AR) covers this point"
                                if layers.get("S_POL_AR") else
                                "the maps in force here have no community layer (S_POL_AR)")
    lomrs = [LomrHit(item["case_no"], item["eff_date"], item["status"], item["dataset_id"])
             for item in row.lomrs]
    if not layers.get("S_LOMR"):
        reasons["lomrs"] = "the maps in force here have no LOMR layer (S_LOMR)"
    units = [CbrsHit(item["cbrs_id"], item["cbrs_typ"], item["cbrs_dt"], item["dataset_id"])
             for item in row.cbrs]
    if not layers.get("S_CBRS"):
        reasons["cbrs"] = "the maps in force here have no CBRS layer (S_CBRS)"
    bfe = base_flood_elevation(report, primary, row.bfe_lines or [],
                               row.cross_sections or [], layers)
    boundary = boundary_of(report, row.sfha_boundary_m, tolerance_m, reach)
    citations = [citation for citation in known.citations
                 if citation.dataset_id in answering or not answering]
    depths = None
    if depth is not None:
        study = next((citation.study for citation in known.citations
                      if primary is not None and citation.dataset_id == primary.dataset.id),
                     None)
        depths = depth_at(known.rasters, report.lon, report.lat,
                          flood_elevation(report, primary, bfe, study), depth)
    return Determination(
        panel=panel, community=community, lomrs=lomrs,
        cbrs=units[0] if units else None, bfe=bfe, boundary=boundary, citations=citations,
        as_of=scope.as_of or today or dt.date.today(), reasons=reasons, depth=depths)


def flood_elevation(report: PointReport, zone: ZoneHit | None, bfe: BaseFloodElevation,
                    study: dict[str, Any] | None = None) -> FloodElevation:
    """What the depth answers take of the determination: the SFHA, the BFE (its datum from
    the zone's V_DATUM, else the study's), an AO depth."""
    depth_zone = zone is not None and zone.fld_zone in DEPTH_ZONES and zone.depth is not None
    datum = parse_datum(bfe.datum) or parse_datum((study or {}).get("V_DATUM"))
    return FloodElevation(
        in_sfha=bool(report.in_sfha), value=bfe.value, estimated=bfe.estimated, unit=bfe.unit,
        datum=datum, zone_depth=zone.depth if depth_zone and zone else None,
        reason=bfe.reason)


@dataclass(frozen=True)
class PanelAndCommunity:
    """The compact part of a determination a batch row carries."""

    firm_pan: str | None
    panel_date: dt.date | None
    cid: str | None
    community: str | None


NO_PANEL_OR_COMMUNITY = PanelAndCommunity(None, None, None, None)


def panels_and_communities(session: Session, points: Sequence[tuple[float, float]],
                           scope: Scope = ACTIVE, workers: int = 1) -> list[PanelAndCommunity]:
    """For many points, in order: the newest map's FIRM panel and NFIP community at each."""
    found = [NO_PANEL_OR_COMMUNITY] * len(points)
    for row in covering_rows(session, points, scope, workers,
                             determination_sql.panels_and_communities_at_points):
        found[row.ordinal] = PanelAndCommunity(row.firm_pan, row.panel_date, row.cid,
                                               row.community)
    return found


def first_of(items: list[Any], answering: set[int]) -> Any | None:
    """The first item of a map that answered the zone lookup, else the first at all."""
    return next((item for item in items if item.dataset_id in answering),
                items[0] if items else None)


def panel_of(item: dict[str, Any]) -> Panel:
    """A panel from its JSON row; "printed" read from FEMA's PANEL_TYP wording."""
    panel_type = item.get("panel_typ")
    printed = None
    if panel_type:
        printed = "NOT PRINTED" not in panel_type.upper()
    return Panel(item.get("firm_pan"), item.get("panel"), item.get("suffix"),
                 item.get("eff_date"), panel_type, printed, item.get("pnp_reason"),
                 item["dataset_id"])


def community_of(item: dict[str, Any]) -> Community:
    """A community from its JSON row."""
    return Community(item.get("cid"), item.get("name"), item.get("comm_no"),
                     item.get("co_fips"), item.get("st_fips"), item.get("entered_nfip"),
                     item.get("identified"), item.get("first_firm"),
                     item.get("current_effective_map"), item.get("area_not_included"),
                     item["dataset_id"])


def citation_of(item: dict[str, Any]) -> Citation:
    """A citation from its JSON row."""
    return Citation(item["id"], item["name"], item["version"], item.get("effective_date"),
                    item.get("imported_at"), item.get("source_filename"),
                    item.get("source_sha256"), item.get("study"))


def needs_estimate(zone: ZoneHit | None) -> bool:
    """Whether the deciding zone is in the SFHA, has no static BFE and is not a depth zone."""
    return (zone is not None and zone.status == RiskStatus.HIGH_RISK
            and zone.static_bfe is None and zone.fld_zone not in DEPTH_ZONES)


def base_flood_elevation(report: PointReport, zone: ZoneHit | None, bfe_lines: list[Any],
                         cross_sections: list[Any], layers: dict[str, bool]
                         ) -> BaseFloodElevation:
    """The static BFE of the deciding zone, else an estimate between bracketing lines."""
    if zone is None or zone.status != RiskStatus.HIGH_RISK:
        return BaseFloodElevation(None, False, None, None, None,
                                  reason="the point is not in the SFHA: no BFE applies")
    if zone.static_bfe is not None:
        return BaseFloodElevation(zone.static_bfe, False, "static", zone.len_unit,
                                  zone.v_datum)
    if zone.fld_zone in DEPTH_ZONES:
        return BaseFloodElevation(None, False, None, zone.len_unit, zone.v_datum,
                                  reason=f"zone {zone.fld_zone} gives a flood depth "
                                  f"({zone.depth if zone.depth is not None else 'not stated'})"
                                  ", not an elevation")
    for kind, lines in (("bfe_line", bfe_lines), ("cross_section", cross_sections)):
        estimate = bracketed_estimate(report.lon, report.lat, kind, lines, zone)
        if estimate is not None:
            return estimate
    if not layers.get("S_BFE") and not layers.get("S_XS"):
        why = ("the zone has no static BFE and the map has no BFE lines (S_BFE) or cross "
               "sections (S_XS) to estimate one from")
    else:
        why = ("the zone has no static BFE and no two BFE lines or cross sections of its map "
               "bracket the point")
    return BaseFloodElevation(None, False, None, zone.len_unit, zone.v_datum, reason=why)


def local_offset(lon: float, lat: float, to_lon: float, to_lat: float) -> tuple[float, float]:
    """The direction from a point to another in a local plane (x scaled by cos(lat))."""
    return ((to_lon - lon) * math.cos(math.radians(lat)), to_lat - lat)


def bracketed_estimate(lon: float, lat: float, kind: str, lines: list[dict[str, Any]],
                       zone: ZoneHit) -> BaseFloodElevation | None:
    """Linear interpolation between the nearest line and the nearest one on the other side.

    A line is on the other side when the directions from the point to the two lines' nearest
    points are opposed (negative dot product). The weights are the distances to each line,
    which is the distance along the flow path where the lines cross the flooding source at
    right angles, as FEMA draws them. The estimate never leaves the two elevations.
    """
    usable = sorted((line for line in lines if line.get("elevation") is not None),
                    key=lambda line: line["distance_m"])
    if not usable:
        return None
    first = usable[0]
    method = "bfe_lines" if kind == "bfe_line" else "cross_sections"
    unit = first.get("len_unit") or zone.len_unit
    datum = first.get("v_datum") or zone.v_datum
    if first["distance_m"] <= ON_LINE_M:
        return BaseFloodElevation(float(first["elevation"]), True, f"on_{kind}", unit, datum,
                                  [source_of(kind, first)])
    towards_first = local_offset(lon, lat, first["closest_lon"], first["closest_lat"])
    for other in usable[1:]:
        towards = local_offset(lon, lat, other["closest_lon"], other["closest_lat"])
        if towards_first[0] * towards[0] + towards_first[1] * towards[1] >= 0:
            continue  # on the same side as the first line
        if ((other.get("len_unit") or unit) != unit) or ((other.get("v_datum") or datum) != datum):
            return BaseFloodElevation(None, False, None, unit, datum, reason=(
                "the two lines that bracket the point are in different units or datums"))
        d1, d2 = first["distance_m"], other["distance_m"]
        e1, e2 = float(first["elevation"]), float(other["elevation"])
        # Rounded to a thousandth (cross sections carry three decimals), then held between
        # the two elevations, so rounding cannot take it outside them.
        value = round(e1 + (e2 - e1) * d1 / (d1 + d2), 3)
        value = min(max(value, min(e1, e2)), max(e1, e2))
        return BaseFloodElevation(value, True, f"interpolated_between_{method}",
                                  unit, datum, [source_of(kind, first), source_of(kind, other)])
    return None


def source_of(kind: str, line: dict[str, Any]) -> ElevationSource:
    """A line an estimate is made from."""
    return ElevationSource(kind, line.get("label"), float(line["elevation"]),
                           round(float(line["distance_m"]), 2))


def boundary_of(report: PointReport, inside_distance_m: float | None, tolerance_m: float,
                reach_m: float) -> Boundary:
    """The distance to the SFHA boundary: from inside, to the nearest land outside (exact up
    to the reach); from outside, to the nearest high-risk zone of the lookup."""
    if report.in_sfha:
        if inside_distance_m is None or inside_distance_m > reach_m:
            return Boundary(None, False, tolerance_m, farther_than_m=reach_m)
        distance = float(inside_distance_m)
    elif report.nearest_high_risk is not None:
        distance = report.nearest_high_risk.distance_m
    else:
        return Boundary(None, False, tolerance_m, farther_than_m=report.search_radius_m)
    return Boundary(round(distance, 2), distance <= tolerance_m, tolerance_m)
