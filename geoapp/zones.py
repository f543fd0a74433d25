"""Domain operations on datasets and their flood zones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from geoapp import queries
from geoapp.errors import InvalidInput
from geoapp.models import Dataset, FloodZone, User
from geoapp.nfhl import zone_columns

INSERT_BATCH = 1000


def as_multipolygon(geometry: BaseGeometry, index: int) -> MultiPolygon:
    """A valid MultiPolygon from a Polygon or MultiPolygon, or InvalidInput naming the feature."""
    if isinstance(geometry, Polygon):
        geometry = MultiPolygon([geometry])
    if not isinstance(geometry, MultiPolygon):
        raise InvalidInput(
            f"feature {index}: expected a Polygon or MultiPolygon, got {geometry.geom_type}",
            code="invalid_geometry",
        )
    if not geometry.is_valid:
        raise InvalidInput(
            f"feature {index}: invalid geometry ({shapely.is_valid_reason(geometry)})",
            code="invalid_geometry",
        )
    return geometry


def create_dataset(
    session: Session,
    *,
    name: str,
    features: Iterable[tuple[BaseGeometry | None, Mapping[str, Any]]],
    source_filename: str | None = None,
    source_crs: str | None = None,
    effective_date: dt.date | None = None,
    imported_by: User | None = None,
) -> Dataset:
    """Store a dataset and its zones (EPSG:4326 geometries); the caller commits.

    Database triggers subdivide each zone into the lookup table as rows are inserted.
    """
    dataset = Dataset(
        name=name,
        source_filename=source_filename,
        source_crs=source_crs,
        effective_date=effective_date,
        imported_by_id=imported_by.id if imported_by else None,
        status="ready",
    )
    session.add(dataset)
    session.flush()
    batch: list[dict[str, Any]] = []
    for index, (geometry, properties) in enumerate(features):
        if geometry is None or geometry.is_empty:
            continue
        columns = zone_columns(properties)
        if columns["fld_zone"] is None:
            raise InvalidInput(f"feature {index}: no FLD_ZONE value", code="missing_zone")
        columns["geom"] = from_shape(as_multipolygon(geometry, index), srid=queries.SRID)
        columns["dataset_id"] = dataset.id
        batch.append(columns)
        if len(batch) >= INSERT_BATCH:
            session.execute(insert(FloodZone), batch)
            batch = []
    if batch:
        session.execute(insert(FloodZone), batch)
    refresh_dataset_summary(session, dataset)
    return dataset


def refresh_dataset_summary(session: Session, dataset: Dataset) -> None:
    """Recompute a dataset's feature count and bounding box from its zones."""
    dataset.feature_count = session.scalar(
        select(func.count(FloodZone.id)).where(FloodZone.dataset_id == dataset.id)
    )
    dataset.bbox = queries.dataset_bbox(dataset.id)
    session.flush()


def count_active_zones(session: Session) -> int:
    """Number of zones in datasets that answer queries."""
    return (
        session.scalar(
            select(func.count(FloodZone.id))
            .join(FloodZone.dataset)
            .where(queries.dataset_is_active())
        )
        or 0
    )


def dataset_named(session: Session, name: str) -> Dataset | None:
    """The active dataset with this name, if any."""
    return session.scalar(select(Dataset).where(Dataset.name == name, queries.dataset_is_active()))
