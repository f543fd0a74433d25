"""Everything the application sends as JSON or GeoJSON is built here."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from geoapp.lookup import DatasetInfo, PointReport, ZoneHit
from geoapp.models import ApiToken
from geoapp.risk import STATUS_LABELS


def dataset_json(info: DatasetInfo) -> dict[str, Any]:
    """Provenance of one dataset."""
    return {
        "id": info.id,
        "name": info.name,
        "source_filename": info.source_filename,
        "effective_date": info.effective_date.isoformat() if info.effective_date else None,
        "imported_at": info.imported_at.isoformat() if info.imported_at else None,
    }


def zone_hit_json(hit: ZoneHit) -> dict[str, Any]:
    """One covering zone of a point report; absent values are null, never -9999."""
    return {
        "zone": hit.fld_zone,
        "subtype": hit.zone_subty,
        "status": hit.status,
        "sfha": hit.sfha,
        "floodway": hit.floodway,
        "bfe": hit.static_bfe,
        "vertical_datum": hit.v_datum if hit.static_bfe is not None else None,
        "length_unit": hit.len_unit,
        "depth": hit.depth,
        "velocity": hit.velocity,
        "velocity_unit": hit.vel_unit,
        "dfirm_id": hit.dfirm_id,
        "fld_ar_id": hit.fld_ar_id,
        "zone_id": hit.zone_id,
        "dataset": {"id": hit.dataset.id, "name": hit.dataset.name},
    }


def point_report_json(report: PointReport) -> dict[str, Any]:
    """The JSON answer of /api/lookup."""
    return {
        "query": {"lon": report.lon, "lat": report.lat},
        "status": report.status,
        "status_label": STATUS_LABELS[report.status],
        "in_sfha": report.in_sfha,
        "zones": [zone_hit_json(hit) for hit in report.zones],
        "datasets": [dataset_json(info) for info in report.datasets],
    }


def feature(geometry_json: str | None, properties: Mapping[str, Any], fid: Any = None) -> dict:
    """A GeoJSON Feature from geometry text produced by ST_AsGeoJSON."""
    out: dict[str, Any] = {"type": "Feature"}
    if fid is not None:
        out["id"] = fid
    out["geometry"] = json.loads(geometry_json) if geometry_json else None
    out["properties"] = dict(properties)
    return out


def feature_collection(features: Iterable[dict]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", "features": list(features)}


def error_json(code: str, message: str) -> dict[str, str]:
    """The body of every API error."""
    return {"error": code, "message": message}


def token_json(token: ApiToken, secret: str | None = None) -> dict[str, Any]:
    """An API token's public record; ``secret`` only in the answer that creates it."""
    out: dict[str, Any] = {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at.isoformat() if token.created_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked": token.revoked_at is not None,
    }
    if secret is not None:
        out["token"] = secret
    return out
