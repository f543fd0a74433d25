"""Raster layers: those in scope (read once per datasets version, with the determination's
catalog), one by id for its map tiles, the files a deletion or a sweep removes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from geoapp.db.models import Dataset, RasterLayer
from geoapp.db.queries.scope import Scope, dataset_in_scope
from geoapp.db.vocabulary import DatasetStatus


def raster_fields() -> list[Any]:
    """(key, value) pairs of one raster layer's JSON object: what reading and citing it need."""
    return [
        "id", RasterLayer.id, "dataset_id", RasterLayer.dataset_id,
        "dataset_name", Dataset.name,
        "kind", RasterLayer.kind, "event_percent", RasterLayer.event_percent,
        "vertical_datum", RasterLayer.vertical_datum, "unit", RasterLayer.unit,
        "file_name", RasterLayer.file_name, "crs_wkt", RasterLayer.crs_wkt,
        "nodata", RasterLayer.nodata, "sha256", RasterLayer.sha256,
        "west", func.ST_XMin(RasterLayer.footprint), "south", func.ST_YMin(RasterLayer.footprint),
        "east", func.ST_XMax(RasterLayer.footprint), "north", func.ST_YMax(RasterLayer.footprint)]


def rasters_in_scope(scope: Scope) -> Select[Any]:
    """The raster layers of the datasets in scope, newest map first (a newer DEM answers
    before an older one where both cover a point)."""
    return (select().select_from(RasterLayer).join(Dataset, Dataset.id == RasterLayer.dataset_id)
            .where(dataset_in_scope(scope))
            .order_by(Dataset.effective_date.desc().nulls_last(), Dataset.id.desc(),
                      RasterLayer.id))


def raster_by_id(raster_id: int) -> Select[tuple[RasterLayer]]:
    """One raster layer with its dataset, in one round trip (each map tile asks)."""
    return (select(RasterLayer).options(joinedload(RasterLayer.dataset))
            .where(RasterLayer.id == raster_id))


def files_of_dataset(dataset_id: int) -> Select[tuple[str]]:
    """The stored files of one dataset's rasters (removed after the dataset is deleted)."""
    return select(RasterLayer.file_name).where(RasterLayer.dataset_id == dataset_id)


def stored_file_names() -> Select[tuple[str]]:
    """Every stored raster file the database knows (the sweep removes the others)."""
    return select(RasterLayer.file_name)


def rasters_of_datasets(dataset_ids: list[int]) -> Select[tuple[RasterLayer]]:
    """The raster layers of some datasets, by id (the datasets' pages and API)."""
    return (select(RasterLayer).where(RasterLayer.dataset_id.in_(dataset_ids))
            .order_by(RasterLayer.dataset_id, RasterLayer.id))


def importing_dataset_ids() -> Select[tuple[int]]:
    """Datasets whose import is queued or running (their partial rasters are kept)."""
    return select(Dataset.id).where(Dataset.status.in_((DatasetStatus.QUEUED,
                                                        DatasetStatus.IMPORTING)))
