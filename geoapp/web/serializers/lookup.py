"""JSON, GeoJSON and CSV of flood determinations: a point, a batch of points, a parcel, places."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from geoapp.nfhl.status import STATUS_LABELS, RiskStatus
from geoapp.risk.batch import BatchPoint
from geoapp.risk.depth import DECIMALS as DEPTH_DECIMALS
from geoapp.risk.depth import DepthAnswer, Height, LomaCandidate, ParcelDepths, PointDepth
from geoapp.risk.determination import (
    BaseFloodElevation,
    Boundary,
    Citation,
    Community,
    Determination,
    Panel,
    PanelAndCommunity,
)
from geoapp.risk.exposure import ParcelExposure
from geoapp.risk.geocoding import Place
from geoapp.risk.lookup import DatasetInfo, NearestZone, PointReport, ZoneHit
from geoapp.web.json_provider import encode
from geoapp.web.serializers.common import in_blocks, iso


def dataset_json(info: DatasetInfo) -> dict[str, Any]:
    """Provenance of one dataset."""
    return {
        "id": info.id,
        "name": info.name,
        "source_filename": info.source_filename,
        "effective_date": iso(info.effective_date),
        "imported_at": iso(info.imported_at),
    }


def zone_hit_json(hit: ZoneHit) -> dict[str, Any]:
    """One zone of a report; absent values are null, never -9999."""
    return {
        "zone": hit.fld_zone,
        "subtype": hit.zone_subty,
        "status": hit.status,
        "sfha": hit.sfha,
        "floodway": hit.floodway,
        "bfe": hit.static_bfe,
        "vertical_datum": hit.v_datum if hit.static_bfe is not None else None,
        "length_unit": hit.len_unit if (hit.static_bfe, hit.depth) != (None, None) else None,
        "depth": hit.depth,
        "velocity": hit.velocity,
        "velocity_unit": hit.vel_unit if hit.velocity is not None else None,
        "dfirm_id": hit.dfirm_id,
        "fld_ar_id": hit.fld_ar_id,
        "zone_id": hit.zone_id,
        "dataset": {"id": hit.dataset.id, "name": hit.dataset.name},
        "effective_date": iso(hit.dataset.effective_date),
    }


def nearest_json(nearest: NearestZone | None) -> dict[str, Any] | None:
    """The nearest high-risk zone, or None."""
    if nearest is None:
        return None
    return {
        "distance_m": round(nearest.distance_m, 2),
        "zone": nearest.zone.fld_zone,
        "subtype": nearest.zone.zone_subty,
        "zone_id": nearest.zone.zone_id,
        "dataset": {"id": nearest.zone.dataset.id, "name": nearest.zone.dataset.name},
        "nearest_point": {"lon": round(nearest.lon, 7), "lat": round(nearest.lat, 7)},
    }


DISCLAIMER = ("Not an official FEMA flood hazard determination (FEMA Form 086-0-32): made "
              "by FloodManager from the NFHL data cited, for information.")
BOUNDARY_REVIEW = ("The point is within map accuracy ({tolerance:g} m) of the SFHA boundary: "
                   "the determination cannot be made with confidence from the map and should "
                   "be reviewed (for example against an Elevation Certificate or a LOMA).")


def panel_json(panel: Panel | None) -> dict[str, Any] | None:
    """The FIRM panel, or None."""
    if panel is None:
        return None
    return {"firm_pan": panel.firm_pan, "panel": panel.panel, "suffix": panel.suffix,
            "effective_date": panel.effective_date, "panel_type": panel.panel_type,
            "printed": panel.printed, "not_printed_reason": panel.not_printed_reason,
            "dataset_id": panel.dataset_id}


def community_json(community: Community | None) -> dict[str, Any] | None:
    """The NFIP community, or None."""
    if community is None:
        return None
    return {"cid": community.cid, "name": community.name, "comm_no": community.comm_no,
            "county_fips": community.county_fips, "state_fips": community.state_fips,
            "entered_nfip": community.entered_nfip, "identified": community.identified,
            "first_firm": community.first_firm,
            "current_effective_map": community.current_effective_map,
            "area_not_included": community.area_not_included,
            "dataset_id": community.dataset_id}


def bfe_json(bfe: BaseFloodElevation) -> dict[str, Any]:
    """The BFE, static or estimated (always labelled so), or its reason for null."""
    return {"value": bfe.value, "estimated": bfe.estimated, "method": bfe.method,
            "length_unit": bfe.unit if bfe.value is not None else None,
            "vertical_datum": bfe.datum if bfe.value is not None else None,
            "sources": [{"kind": source.kind, "label": source.label,
                         "elevation": source.elevation, "distance_m": source.distance_m}
                        for source in bfe.sources],
            "reason": bfe.reason}


def boundary_json(boundary: Boundary) -> dict[str, Any]:
    """Distance to the SFHA boundary and the tolerance it is judged by."""
    return {"distance_m": boundary.distance_m, "farther_than_m": boundary.farther_than_m,
            "tolerance_m": boundary.tolerance_m}


def citation_json(citation: Citation) -> dict[str, Any]:
    """One map cited."""
    return {"dataset_id": citation.dataset_id, "name": citation.name,
            "version": citation.version, "effective_date": citation.effective_date,
            "imported_at": citation.imported_at, "source_filename": citation.source_filename,
            "source_sha256": citation.source_sha256,
            "study_name": (citation.study or {}).get("STUDY_NM")}


def permalink_args(lon: float, lat: float, determination: Determination,
                   dataset: int | str | None = None,
                   nearest_radius: float | None = None) -> dict[str, Any]:
    """The query of a permalink: the point, the day the determination was made for, and the
    maps and radius asked for, so that it answers the same determination later."""
    args: dict[str, Any] = {"lon": lon, "lat": lat, "as_of": determination.as_of.isoformat()}
    if dataset is not None:
        args["dataset"] = dataset
    if nearest_radius is not None:
        args["nearest_radius"] = nearest_radius
    return args


def determination_json(determination: Determination, permalink: str) -> dict[str, Any]:
    """Section II of a determination: panel, community, LOMRs, CBRS, BFE, boundary, citation."""
    near = bool(determination.boundary.near)
    return {
        "as_of": determination.as_of.isoformat(),
        "firm_panel": panel_json(determination.panel),
        "community": community_json(determination.community),
        "lomrs": [{"case_no": lomr.case_no, "effective_date": lomr.effective_date,
                   "status": lomr.status, "dataset_id": lomr.dataset_id}
                  for lomr in determination.lomrs],
        "cbrs": {"in_cbrs": determination.in_cbrs,
                 "unit": determination.cbrs.unit if determination.cbrs else None,
                 "type": determination.cbrs.unit_type if determination.cbrs else None,
                 "date": determination.cbrs.date if determination.cbrs else None},
        "bfe": bfe_json(determination.bfe),
        "sfha_boundary": boundary_json(determination.boundary),
        "near_sfha_boundary": near,
        "review": BOUNDARY_REVIEW.format(tolerance=determination.boundary.tolerance_m)
        if near else None,
        "citations": [citation_json(citation) for citation in determination.citations],
        "permalink": permalink,
        "reasons": determination.reasons,
        "disclaimer": DISCLAIMER,
        "depth": depth_json(determination.depth) if determination.depth else None,
    }


def height_json(height: Height | None) -> dict[str, Any] | None:
    """A height with its unit, datum and source, or null and why."""
    if height is None:
        return None
    value = None if height.value is None else round(height.value, DEPTH_DECIMALS)
    return {"value": value, "unit": height.unit, "vertical_datum": height.vertical_datum,
            "source": height.source, "raster_id": height.raster_id,
            "dataset_id": height.dataset_id, "reason": height.reason}


def loma_json(loma: LomaCandidate | None) -> dict[str, Any] | None:
    """Whether the ground is at or above the 1% water surface (a LOMA candidate), and why."""
    if loma is None:
        return None
    return {"candidate": loma.candidate, "ground": height_json(loma.ground),
            "water_surface": height_json(loma.water_surface), "reason": loma.reason,
            "note": loma.note}


def depth_json(depth: DepthAnswer) -> dict[str, Any]:
    """Ground, water surface and depth per event, the water above a first floor, LOMA."""
    return {
        "unit": depth.unit,
        "ground_elevation": height_json(depth.ground),
        "first_floor_elevation": height_json(depth.first_floor),
        "events": [{"annual_chance_percent": event.annual_chance_percent,
                    "water_surface_elevation": height_json(event.water_surface),
                    "depth": height_json(event.depth),
                    "water_above_first_floor": height_json(event.above_first_floor)}
                   for event in depth.events],
        "loma_candidate": loma_json(depth.loma),
        "rasters": [{"id": raster.id, "dataset_id": raster.dataset_id,
                     "dataset_name": raster.dataset_name, "kind": raster.kind,
                     "event_percent": raster.event_percent,
                     "vertical_datum": raster.vertical_datum, "unit": raster.unit,
                     "sha256": raster.sha256} for raster in depth.rasters_used],
    }


def point_report_json(report: PointReport, determination: Determination | None = None,
                      permalink: str | None = None) -> dict[str, Any]:
    """The JSON answer of /api/lookup (with its determination unless asked for zones only)."""
    body = point_zones_json(report)
    if determination is not None:
        body["determination"] = determination_json(determination, permalink or "")
    return body


def point_zones_json(report: PointReport) -> dict[str, Any]:
    """The zone part of /api/lookup's answer."""
    return {
        "query": {"lon": report.lon, "lat": report.lat},
        "status": report.status,
        "status_label": STATUS_LABELS[report.status],
        "in_sfha": report.in_sfha,
        "zones": [zone_hit_json(hit) for hit in report.zones],
        "nearest_high_risk": nearest_json(report.nearest_high_risk),
        "nearest_search_radius_m": report.search_radius_m,
        "datasets": [dataset_json(info) for info in report.datasets],
    }


def compact_report(point: BatchPoint, report: PointReport | None,
                   context: PanelAndCommunity | None = None,
                   depth: PointDepth | None = None) -> dict[str, Any]:
    """One batch row: the decisive facts of a report, flat enough for a CSV column each."""
    if report is None:
        return {
            "id": point.id,
            "lon": point.lon,
            "lat": point.lat,
            "status": None,
            "in_sfha": None,
            "zone": None,
            "zones": [],
            "bfe": None,
            "vertical_datum": None,
            "depth": None,
            "floodway": None,
            "dataset": None,
            "effective_date": None,
            "firm_pan": None,
            "cid": None,
            "ground_elevation": None,
            "flood_depth_1pct": None,
            "elevation_unit": None,
            "loma_candidate": None,
            "error": point.error,
        }
    primary = report.primary_zone
    sfha_bfe = next((h for h in report.zones if h.sfha and h.static_bfe is not None), None)
    return {
        "id": point.id,
        "lon": point.lon,
        "lat": point.lat,
        "status": report.status,
        "in_sfha": report.in_sfha,
        "zone": primary.fld_zone if primary else None,
        "zones": [hit.fld_zone for hit in report.zones],
        "bfe": sfha_bfe.static_bfe if sfha_bfe else None,
        "vertical_datum": sfha_bfe.v_datum if sfha_bfe else None,
        "depth": next((h.depth for h in report.zones if h.depth is not None), None),
        "floodway": any(hit.floodway for hit in report.zones),
        "dataset": primary.dataset.name if primary else None,
        "effective_date": iso(primary.dataset.effective_date) if primary else None,
        "firm_pan": context.firm_pan if context else None,
        "cid": context.cid if context else None,
        "ground_elevation": depth.ground if depth else None,
        "flood_depth_1pct": depth.depth_1pct if depth else None,
        "elevation_unit": depth.unit if depth else None,
        "loma_candidate": depth.loma_candidate if depth else None,
        "error": None,
    }


def batch_row(point: BatchPoint, report: PointReport | None, full: bool,
              context: PanelAndCommunity | None = None,
              determination: Determination | None = None,
              permalink: str | None = None, depth: PointDepth | None = None) -> dict[str, Any]:
    """A batch result: compact, or the whole point report under ``report`` when ``full``."""
    row = compact_report(point, report, context, depth)
    if full and report is not None:
        row["report"] = point_report_json(report, determination, permalink)
    return row


def stream_batch_json(rows: Iterable[dict[str, Any]], count: int) -> Iterator[str]:
    """``{"count": n, "results": [...]}`` written row by row, sent in blocks."""

    def parts() -> Iterator[str]:
        yield f'{{"count": {count}, "results": ['
        for index, row in enumerate(rows):
            yield ("," if index else "") + encode(row)
        yield "]}"

    return in_blocks(parts())


def stream_batch_geojson(
    rows: Iterable[tuple[BatchPoint, dict[str, Any]]],
) -> Iterator[str]:
    """A FeatureCollection of the input points with their results as properties (in blocks)."""

    def parts() -> Iterator[str]:
        yield '{"type": "FeatureCollection", "features": ['
        for index, (point, row) in enumerate(rows):
            geometry = (
                {"type": "Point", "coordinates": [point.lon, point.lat]}
                if point.lon is not None
                else None
            )
            properties = {**point.properties, **{k: v for k, v in row.items() if k != "id"}}
            item = {"type": "Feature", "id": point.id, "geometry": geometry,
                    "properties": properties}
            yield ("," if index else "") + encode(item)
        yield "]}"

    return in_blocks(parts())


CSV_COLUMNS = (
    "id",
    "lon",
    "lat",
    "status",
    "in_sfha",
    "zone",
    "zones",
    "bfe",
    "vertical_datum",
    "depth",
    "floodway",
    "dataset",
    "effective_date",
    "firm_pan",
    "cid",
    "ground_elevation",
    "flood_depth_1pct",
    "elevation_unit",
    "loma_candidate",
    "error",
)


def stream_batch_csv(
    rows: Iterable[tuple[BatchPoint, dict[str, Any]]], extra_columns: list[str]
) -> Iterator[str]:
    """CSV of the results (zones joined with ';'), then the input's other columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*CSV_COLUMNS, *extra_columns])
    for point, row in rows:
        values = [";".join(row["zones"]) if key == "zones" else row[key] for key in CSV_COLUMNS]
        values += [point.properties.get(name) for name in extra_columns]
        writer.writerow(["" if value is None else value for value in values])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def parcel_depths_json(depths: ParcelDepths | None) -> dict[str, Any] | None:
    """A parcel's depths per event and lowest ground (null when no raster is in scope)."""
    if depths is None:
        return None
    return {
        "unit": depths.unit,
        "lowest_ground_elevation": height_json(depths.lowest_ground),
        "events": [{"annual_chance_percent": event.annual_chance_percent,
                    "wet_area_share": event.wet_area_share, "depth_min": event.depth_min,
                    "depth_mean": event.depth_mean, "depth_max": event.depth_max,
                    "grid_area_share": event.covered_area_share, "raster_id": event.raster_id,
                    "source": event.source, "reason": event.reason}
                   for event in depths.events],
        "loma_candidate": loma_json(depths.loma),
    }


def exposure_json(exposure: ParcelExposure, depths: ParcelDepths | None = None
                  ) -> dict[str, Any]:
    """The JSON answer of /api/lookup/area."""
    return {
        "area_m2": round(exposure.area_m2, 2),
        "max_status": exposure.max_status,
        "sfha_share": round(exposure.share(RiskStatus.HIGH_RISK), 6),
        "unmapped_share": round(exposure.unmapped_share, 6),
        "repaired": exposure.repaired,
        "by_status": [
            {
                "status": status,
                "label": STATUS_LABELS[status],
                "area_m2": round(area, 2),
                "share": round(exposure.share(status), 6),
            }
            for status, area in exposure.status_areas.items()
        ],
        "by_zone": [
            {
                **zone_hit_json(item.zone),
                "area_m2": round(item.area_m2, 2),
                "share": round(item.share, 6),
            }
            for item in exposure.zones
        ],
        "datasets": [dataset_json(info) for info in exposure.datasets],
        "depth": parcel_depths_json(depths),
    }


def places_json(query: str, places: Iterable[Place]) -> dict[str, Any]:
    """Geocoder hits as JSON: label, point and bounding box [west, south, east, north]."""
    return {"query": query, "places": [
        {"label": place.label, "lon": place.lon, "lat": place.lat,
         "bbox": list(place.bbox) if place.bbox else None} for place in places]}
