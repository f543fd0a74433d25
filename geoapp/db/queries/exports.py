"""Exports: the export_jobs rows from queued to ready or expired, and the zones they write.

A partial unique index (status queued, running or ready) makes parallel requests for one
dataset, format and data version share one row: the insert does nothing on a conflict.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    ColumnElement,
    Delete,
    Select,
    Update,
    and_,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import Insert, insert

from geoapp.db.models import DataVersion, ExportJob, FloodZone
from geoapp.db.vocabulary import LIVE_EXPORT_STATUSES as LIVE
from geoapp.db.vocabulary import ExportStatus

QUEUED, RUNNING, READY = ExportStatus.QUEUED, ExportStatus.RUNNING, ExportStatus.READY
FAILED, EXPIRED = ExportStatus.FAILED, ExportStatus.EXPIRED


def flood_zones_version() -> Select[tuple[int]]:
    """The flood_zones data version (bumped by a trigger on every change of any zone)."""
    return select(DataVersion.version).where(DataVersion.name == "flood_zones")


def export_key(dataset_id: int, format_key: str, data_version: int
               ) -> tuple[ColumnElement[bool], ...]:
    """The conditions naming one export: a dataset, a format, a data version."""
    return (ExportJob.dataset_id == dataset_id, ExportJob.format == format_key,
            ExportJob.data_version == data_version)


def expire_stale(key: tuple[ColumnElement[bool], ...], now: dt.datetime) -> Update:
    """Retire the ready export of a key whose file has expired, so it is never reused."""
    return (update(ExportJob).where(*key, ExportJob.status == READY, ExportJob.expires_at <= now)
            .values(status=EXPIRED))


def queue_export(export_id: str, dataset_id: int, format_key: str, data_version: int,
                 filename: str) -> Insert:
    """A queued export, unless a live one has the key (then nothing; RETURNING tells)."""
    return (
        insert(ExportJob)
        .values(id=export_id, dataset_id=dataset_id, format=format_key,
                data_version=data_version, status=QUEUED, filename=filename)
        .on_conflict_do_nothing(index_elements=["dataset_id", "format", "data_version"],
                                index_where=ExportJob.status.in_(LIVE))
        .returning(ExportJob.id)
    )


def live_export(key: tuple[ColumnElement[bool], ...]) -> Select[tuple[ExportJob]]:
    """The live export of a key (the partial unique index allows at most one)."""
    return select(ExportJob).where(*key, ExportJob.status.in_(LIVE))


def _unfinished(export_id: str) -> tuple[ColumnElement[bool], ...]:
    """One export, if it is still to be written (queued, or running in a worker)."""
    return (ExportJob.id == export_id, ExportJob.status.in_((QUEUED, RUNNING)))


def claim(export_id: str) -> Update:
    """Mark an export running, if it is still queued or running; RETURNING tells."""
    return (update(ExportJob).where(*_unfinished(export_id))
            .values(status=RUNNING, error=None).returning(ExportJob.id))


def mark_ready(export_id: str, stored_name: str, size_bytes: int, now: dt.datetime,
               expires_at: dt.datetime) -> Update:
    """Record a written export: its file, size and expiry."""
    return update(ExportJob).where(ExportJob.id == export_id).values(
        status=READY, stored_name=stored_name, size_bytes=size_bytes, finished_at=now,
        expires_at=expires_at)


def mark_failed(export_id: str, message: str, now: dt.datetime) -> Update:
    """Record why an export failed, unless it was written after all."""
    return (update(ExportJob).where(*_unfinished(export_id))
            .values(status=FAILED, error=message, finished_at=now))


def expire_due(now: dt.datetime) -> Update:
    """Retire every ready export past its expiry, returning their ids."""
    return (update(ExportJob).where(ExportJob.status == READY, ExportJob.expires_at <= now)
            .values(status=EXPIRED).returning(ExportJob.id))


def purge_finished(cutoff: dt.datetime) -> Delete:
    """Forget exports that failed or expired before a cutoff."""
    return delete(ExportJob).where(or_(
        and_(ExportJob.status == EXPIRED, ExportJob.expires_at <= cutoff),
        and_(ExportJob.status == FAILED, ExportJob.finished_at <= cutoff)))


def live_export_ids() -> Select[tuple[str]]:
    """Ids of the exports whose files must stay (queued, running or ready)."""
    return select(ExportJob.id).where(ExportJob.status.in_(LIVE))


def zone_attributes(dataset_id: int, batch_zones: int) -> Select[tuple[dict]]:
    """A dataset's zone attributes in id order, streamed `batch_zones` rows at a time."""
    return (select(FloodZone.attributes).where(FloodZone.dataset_id == dataset_id)
            .order_by(FloodZone.id).execution_options(yield_per=batch_zones))


def zone_attributes_and_wkb(dataset_id: int, batch_zones: int) -> Select[tuple[dict, bytes]]:
    """A dataset's zones as (attributes, WKB geometry) in id order, streamed in batches."""
    # WKB, because the Arrow batches carry the geometry as binary WKB.
    return (select(FloodZone.attributes, func.ST_AsBinary(FloodZone.geom))
            .where(FloodZone.dataset_id == dataset_id).order_by(FloodZone.id)
            .execution_options(yield_per=batch_zones))
