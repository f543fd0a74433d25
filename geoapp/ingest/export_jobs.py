"""Exports too large for a request: their rows in export_jobs, from queued to ready or expired.

A finished export is reused for the same dataset, format and flood_zones data version until it
expires; a partial unique index makes parallel requests for one key share a single job.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from geoapp.db.models import Dataset, ExportJob
from geoapp.db.queries import exports as exports_sql
from geoapp.db.vocabulary import ExportStatus
from geoapp.errors import NotFound, ServiceUnavailable
from geoapp.ingest.exports import ExportFormat, download_filename

_EXPORT_ID = re.compile(r"[0-9a-f]{32}")


def current_data_version(session: Session) -> int:
    """The flood_zones data version (bumped by a trigger on every change of any zone)."""
    version = session.scalar(exports_sql.flood_zones_version())
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
    key = exports_sql.export_key(dataset.id, fmt.key, version)
    # A few rounds: the live export found by the insert may finish or fail before it is read.
    for _ in range(3):
        # Retire an expired file now rather than wait for the sweep, so it is never reused.
        session.execute(exports_sql.expire_stale(key, _utcnow()))
        created_id = session.scalar(exports_sql.queue_export(
            uuid.uuid4().hex, dataset.id, fmt.key, version, download_filename(dataset.name, fmt)))
        session.commit()
        export = session.scalars(exports_sql.live_export(key)).one_or_none()
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
    claimed = session.scalar(exports_sql.claim(export_id))
    session.commit()
    return session.get(ExportJob, claimed) if claimed else None


def mark_ready(session: Session, export_id: str, stored_name: str, size_bytes: int,
               ttl_s: float) -> None:
    """Record a written export: its file, size and expiry (committed)."""
    now = _utcnow()
    session.execute(exports_sql.mark_ready(export_id, stored_name, size_bytes, now,
                                           now + dt.timedelta(seconds=ttl_s)))
    session.commit()


def mark_failed(session: Session, export_id: str, message: str) -> None:
    """Record why an export could not be written, unless it was written after all (committed)."""
    session.execute(exports_sql.mark_failed(export_id, message, _utcnow()))
    session.commit()


def expire_due(session: Session) -> list[str]:
    """Retire the ready exports past their expiry; their ids (committed)."""
    expired = session.scalars(exports_sql.expire_due(_utcnow())).all()
    session.commit()
    return list(expired)


def purge_finished(session: Session, older_than_s: float) -> int:
    """Forget exports failed or expired more than `older_than_s` ago (committed).

    Until then their state still answers clients that poll an old status URL.
    """
    cutoff = _utcnow() - dt.timedelta(seconds=older_than_s)
    deleted = session.execute(exports_sql.purge_finished(cutoff))
    session.commit()
    return deleted.rowcount


def live_export_ids(session: Session) -> set[str]:
    """Ids of the exports whose files must stay (queued, running or ready)."""
    return set(session.scalars(exports_sql.live_export_ids()))


def export_file(export_dir: Path, export: ExportJob) -> Path | None:
    """Where a ready, unexpired export's file is; None when it is not (or no longer) there."""
    if export.status != ExportStatus.READY or not export.stored_name:
        return None
    if export.expires_at is not None and export.expires_at <= _utcnow():
        return None
    path = export_dir / export.id / export.stored_name
    return path if path.is_file() else None
