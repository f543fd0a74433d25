"""The dataset catalog: active datasets, extents, one dataset's summary, versions by name."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from geoapp.db.models import Dataset, FloodZone
from geoapp.db.queries.scope import dataset_is_active
from geoapp.db.queries.shapes import SRID


def active_datasets() -> Select[Any]:
    """(id, name, effective_date) of the datasets that answer queries, by name."""
    return (select(Dataset.id, Dataset.name, Dataset.effective_date)
            .where(dataset_is_active()).order_by(Dataset.name, Dataset.id))


def active_extent() -> Select[Any]:
    """Bounding box (xmin, ymin, xmax, ymax) of all active datasets, NULLs when there are none."""
    box = func.ST_Extent(Dataset.bbox)
    return select(func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box)).where(
        dataset_is_active()
    )


def dataset_bbox(dataset_id: int) -> ColumnElement[Any]:
    """The envelope of one dataset's zones, as a polygon (for Dataset.bbox)."""
    extent = (
        select(func.ST_Extent(FloodZone.geom))
        .where(FloodZone.dataset_id == dataset_id)
        .scalar_subquery()
    )
    return func.ST_SetSRID(func.ST_Envelope(func.Box2D(extent)), SRID, type_=Geometry)


def datasets_newest_first() -> Select[tuple[Dataset]]:
    """Every dataset (of any status), newest first: the catalog page and the API list."""
    return select(Dataset).order_by(Dataset.id.desc())


def dataset_extent(dataset_id: int) -> Select[Any]:
    """(xmin, ymin, xmax, ymax) of one dataset's stored bbox, NULLs when it has none."""
    return select(
        func.ST_XMin(Dataset.bbox), func.ST_YMin(Dataset.bbox),
        func.ST_XMax(Dataset.bbox), func.ST_YMax(Dataset.bbox),
    ).where(Dataset.id == dataset_id)


# Seven decimals of a degree are about a centimetre: all a dataset's extent needs.
BBOX_PRECISION = 7


def datasets_with_bbox() -> Select[Any]:
    """Every dataset with its bbox as GeoJSON text, by id (the OGC datasets collection)."""
    return select(Dataset, func.ST_AsGeoJSON(Dataset.bbox, BBOX_PRECISION)).order_by(Dataset.id)


def dataset_with_bbox(dataset_id: int) -> Select[Any]:
    """One dataset with its bbox as GeoJSON text (the OGC datasets collection's item)."""
    return select(Dataset, func.ST_AsGeoJSON(Dataset.bbox, BBOX_PRECISION)).where(
        Dataset.id == dataset_id
    )


def dataset_zone_count(dataset_id: int) -> Select[tuple[int]]:
    """How many zones one dataset has."""
    return select(func.count(FloodZone.id)).where(FloodZone.dataset_id == dataset_id)


def refresh_dataset_summary(session: Session, dataset: Dataset) -> None:
    """Recompute a dataset's feature count and bounding box from its zones."""
    dataset.feature_count = session.scalar(dataset_zone_count(dataset.id))
    dataset.bbox = dataset_bbox(dataset.id)
    session.flush()


def active_dataset_named(name: str) -> Select[tuple[Dataset]]:
    """The active dataset with this name (versions of a map share the name; one is active)."""
    return select(Dataset).where(Dataset.name == name, dataset_is_active())


def dataset_named(session: Session, name: str) -> Dataset | None:
    """The active dataset with this name, if any."""
    return session.scalar(active_dataset_named(name))
