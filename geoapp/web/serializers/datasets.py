"""JSON of datasets (import state and report) and of their exports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from geoapp.geo.raster_tiles import DepthClass
from geoapp.risk.depth import RasterInfo
from geoapp.web.serializers.common import iso


def dataset_provenance(dataset: Any) -> dict[str, Any]:
    """Where a dataset came from and what it holds (shared by its state and its feature)."""
    return {
        "source_filename": dataset.source_filename,
        "source_crs": dataset.source_crs,
        "effective_date": iso(dataset.effective_date),
        "superseded_on": iso(dataset.superseded_on),
        "feature_count": dataset.feature_count,
        "imported_at": iso(dataset.imported_at),
    }


def dataset_state_json(dataset: Any, links: list[dict[str, str]]) -> dict[str, Any]:
    """A dataset's import state and report (GET /api/datasets/{id})."""
    return {
        "id": dataset.id,
        "name": dataset.name,
        "status": dataset.status,
        "progress": dataset.progress,
        "error": dataset.error,
        **dataset_provenance(dataset),
        "report": dataset.import_report,
        "links": links,
    }


def export_json(export: Any, links: list[dict[str, str]],
                download: str | None = None) -> dict[str, Any]:
    """An export's state and links; ``download``, the file's URL, once it is ready."""
    body: dict[str, Any] = {
        "id": export.id, "dataset_id": export.dataset_id, "format": export.format,
        "status": export.status, "filename": export.filename, "size_bytes": export.size_bytes,
        "created_at": iso(export.created_at), "finished_at": iso(export.finished_at),
        "expires_at": iso(export.expires_at), "error": export.error,
    }
    if download is not None:
        body["download"] = download
    body["links"] = links
    return body


def rasters_json(rasters: Sequence[RasterInfo], tiles: Mapping[int, str],
                 classes: Sequence[DepthClass], min_zoom: int, max_zoom: int) -> dict[str, Any]:
    """GET /api/rasters: the raster layers in scope, tile URLs of depth grids, the legend."""
    return {
        "rasters": [{
            "id": raster.id, "dataset_id": raster.dataset_id,
            "dataset_name": raster.dataset_name, "kind": raster.kind,
            "event_percent": raster.event_percent, "vertical_datum": raster.vertical_datum,
            "unit": raster.unit, "bbox": [round(value, 7) for value in raster.bounds],
            "sha256": raster.sha256, "tiles": tiles.get(raster.id)} for raster in rasters],
        "tiles": {"minzoom": min_zoom, "maxzoom": max_zoom},
        "depth_legend": [{"label": item.label, "colour": item.hex, "min_ft": item.low_ft,
                          "max_ft": item.high_ft} for item in classes],
    }
