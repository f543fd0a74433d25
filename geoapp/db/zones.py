"""Domain operations on datasets and their flood zones."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geoapp.db import queries
from geoapp.db.models import Dataset, FloodZone


def refresh_dataset_summary(session: Session, dataset: Dataset) -> None:
    """Recompute a dataset's feature count and bounding box from its zones."""
    dataset.feature_count = session.scalar(
        select(func.count(FloodZone.id)).where(FloodZone.dataset_id == dataset.id)
    )
    dataset.bbox = queries.dataset_bbox(dataset.id)
    session.flush()


def dataset_named(session: Session, name: str) -> Dataset | None:
    """The active dataset with this name, if any."""
    return session.scalar(select(Dataset).where(Dataset.name == name, queries.dataset_is_active()))
