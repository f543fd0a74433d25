"""Exports too large for a request: their rows in export_jobs, from queued to ready or expired.

A finished export is reused for the same dataset, format and flood_zones data version until it
expires; a partial unique index makes parallel requests for one key share a single job.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geoapp.db.models import Dataset, DataVersion, ExportJob
from geoapp.db.vocabulary import LIVE_EXPORT_STATUSES, ExportStatus
from geoapp.errors import NotFound, ServiceUnavailable
from geoapp.ingest.exports import ExportFormat, download_filename

# Not written yet: a worker may still take it or is writing it.
_PENDING = (ExportStatus.QUEUED, ExportStatus.RUNNING)
_EXPORT_ID = re.compile(r"[0-9a-f]{32}")


def current_data_version(session: Session) -> int:
    """The flood_zones data version (bumped by a trigger on every change of any zone)."""
    version = session.scalar(select(DataVersion.version)
                             .where(DataVersion.name == "flood_zones"))
    return int(version or 0)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def request_export(session: Session, dataset: Dataset, fmt: ExportFormat
                   ) -> tuple[ExportJob, bool]:
    """The live export of this dataset, format and data version, or a new queued one.

    Returns the export and whether it was created (then the caller queues its job). An
    export past its expiry is retired here, not served. Committed.
    """
    version = current_data_version(session)
    key = (ExportJob.dataset_id == dataset.id, ExportJob.format == fmt.key,
           ExportJob.data_version == version)
    # A few rounds: the live export found by the insert may finish or fail before it is read.
    for _ in range(3):
        # Retire an expired file now rather than wait for the sweep, so it is never reused.
        session.execute(update(ExportJob).where(*key, ExportJob.status == ExportStatus.READY,
                                                ExportJob.expires_at <= _utcnow())
                        .values(status=ExportStatus.EXPIRED))
        created_id = session.scalar(
            insert(ExportJob)
            .values(id=uuid.uuid4().hex, dataset_id=dataset.id, format=fmt.key,
                    data_version=version, status=ExportStatus.QUEUED,
                    filename=download_filename(dataset.name, fmt))
            .on_conflict_do_nothing(index_elements=["dataset_id", "format", "data_version"],
                                    index_where=ExportJob.status.in_(LIVE_EXPORT_STATUSES))
            .returning(ExportJob.id))
        session.commit()
        export = session.scalars(
            select(ExportJob).where(*key, ExportJob.status.in_(LIVE_EXPORT_STATUSES))
        ).one_or_none()
        if export is not None:
            return export, created_id is not None
    raise ServiceUnavailable("the export could not be queued; try again",
                             code="export_unavailable")


def get_export(session: Session, export_id: str) -> ExportJob:
    """An export by id (404 when unknown)."""
    export = session.get(ExportJob, export_id) if _EXPORT_ID.fullmatch(export_id) else None
    if export is None:
        raise NotFound(f"no export {export_id[:40]!r}")
    return export


def claim(session: Session, export_id: str) -> ExportJob | None:
    """Mark an export running for the worker; None when it is no longer to be written."""
    claimed = session.scalar(
        update(ExportJob).where(ExportJob.id == export_id,
                                ExportJob.status.in_(_PENDING))
        .values(status=ExportStatus.RUNNING, error=None).returning(ExportJob.id))
    session.commit()
    return session.get(ExportJob, claimed) if claimed else None


def mark_ready(session: Session, export_id: str, stored_name: str, size_bytes: int,
               ttl_s: float) -> None:
    """Record a written export: its file, size and expiry (committed)."""
    now = _utcnow()
    session.execute(update(ExportJob).where(ExportJob.id == export_id).values(
        status=ExportStatus.READY, stored_name=stored_name, size_bytes=size_bytes, finished_at=now,
        expires_at=now + dt.timedelta(seconds=ttl_s)))
    session.commit()


def mark_failed(session: Session, export_id: str, message: str) -> None:
    """Record why an export could not be written, unless it was written after all (committed)."""
    session.execute(update(ExportJob).where(ExportJob.id == export_id,
                                            ExportJob.status.in_(_PENDING)).values(
        status=ExportStatus.FAILED, error=message, finished_at=_utcnow()))
    session.commit()


def expire_due(session: Session) -> list[str]:
    """Retire the ready exports past their expiry; their ids (committed)."""
    expired = session.scalars(
        update(ExportJob)
        .where(ExportJob.status == ExportStatus.READY, ExportJob.expires_at <= _utcnow())
        .values(status=ExportStatus.EXPIRED).returning(ExportJob.id)).all()
    session.commit()
    return list(expired)


def purge_finished(session: Session, older_than_s: float) -> int:
    """Forget exports failed or expired more than `older_than_s` ago (committed).

    Until then their state still answers clients that poll an old status URL.
    """
    cutoff = _utcnow() - dt.timedelta(seconds=older_than_s)
    deleted = session.execute(delete(ExportJob).where(or_(
        and_(ExportJob.status == ExportStatus.EXPIRED, ExportJob.expires_at <= cutoff),
        and_(ExportJob.status == ExportStatus.FAILED, ExportJob.finished_at <= cutoff))))
    session.commit()
    return deleted.rowcount


def live_export_ids(session: Session) -> set[str]:
    """Ids of the exports whose files must stay (queued, running or ready)."""
    return set(session.scalars(
        select(ExportJob.id).where(ExportJob.status.in_(LIVE_EXPORT_STATUSES))))


def export_file(export_dir: Path, export: ExportJob) -> Path | None:
    """Where a ready, unexpired export's file is; None when it is not (or no longer) there."""
    if export.status != ExportStatus.READY or not export.stored_name:
        return None
    if export.expires_at is not None and export.expires_at <= _utcnow():
        return None
    path = export_dir / export.id / export.stored_name
    return path if path.is_file() else None
