"""Background imports and exports on procrastinate, a job queue kept in PostgreSQL.

`queue.init_app(app)` (done by create_app) attaches a queue to the app, its tasks bound to that
app; `queue_for(app)` gives it back to defer jobs on, and `flask worker` runs its worker. An
import job carries the dataset id, the upload's path and the ImportRequest as JSON; an export
job carries the export's id. procrastinate hands each job to exactly one worker, however many
run.

Every worker also keeps the others honest, every GEOAPP_WORKER_SWEEP_S seconds: jobs of
workers whose heartbeat stopped go back in the queue, working directories whose owner died
are removed, and expired or orphaned export files are deleted (see `sweep`).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import procrastinate
import procrastinate.jobs

from geoapp.errors import AppError
from geoapp.extensions import db
from geoapp.ingest import export_jobs, exports, files, rasters, runs, workdirs
from geoapp.ingest.request import ImportRequest

if TYPE_CHECKING:  # the app is handed in by create_app and `flask worker`; never imported here
    from flask import Flask

QUEUE = "imports"
EXPORT_QUEUE = "exports"
QUEUES = (QUEUE, EXPORT_QUEUE)
IMPORT_TASK = "geoapp:import_dataset"
EXPORT_TASK = "geoapp:export_dataset"
# Prefixes of the working directories under GEOAPP_WORK_DIR (see geoapp.ingest.workdirs).
WORKER_DIR_PREFIX = "worker-"
EXPORT_DIR_PREFIX = "export-"
# A job whose worker died this many times is given up: it may be what kills them (memory).
MAX_ATTEMPTS = 3
# Working directories the web processes and `flask zones import` make in the system's
# temporary directory; unlocked, so only their age tells that their owner died. A day: a CLI
# import of a whole state may run for hours and does not touch its directory meanwhile.
SYSTEM_TEMP_PREFIXES = (runs.WORKDIR_PREFIX, "geoapp-export-")
SYSTEM_TEMP_MAX_AGE_S = 24 * 3600.0


def libpq_url(sqlalchemy_url: str) -> str:
    """A SQLAlchemy URL as the plain postgresql:// URL psycopg 3 takes."""
    scheme, rest = sqlalchemy_url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else sqlalchemy_url


class JobQueue:
    """The job queue of each app (a Flask extension): `init_app` attaches it, `of` finds it."""

    extension = "geoapp.queue"

    def init_app(self, app: Flask) -> None:
        """Attach a queue on the app's database, its tasks running in that app's context.

        Nothing connects until the queue is opened (to defer a job, or by the worker).
        """
        connector = procrastinate.PsycopgConnector(
            conninfo=libpq_url(app.config["SQLALCHEMY_DATABASE_URI"]),
            kwargs={"application_name": "floodmanager-jobs"},
        )
        tasks = procrastinate.App(connector=connector)

        # Registered on each queue by its full name: a shared procrastinate Blueprint is
        # renamed in place when added, so a second app in one process (tests, scripts) got
        # "geoapp:geoapp:..." and its jobs went to the default queue, which no worker reads.
        # The tasks close over their app: a worker runs them with no request or global app.
        @tasks.task(name=IMPORT_TASK, queue=QUEUE)
        def import_dataset(dataset_id: int, upload: str, options: dict[str, Any]) -> None:
            perform_import(app, dataset_id, upload, options)

        @tasks.task(name=EXPORT_TASK, queue=EXPORT_QUEUE)
        def export_dataset(export_id: str) -> None:
            perform_export(app, export_id)

        app.extensions[self.extension] = tasks

    def of(self, app: Flask) -> procrastinate.App:
        """The queue attached to the app."""
        try:
            return app.extensions[self.extension]
        except KeyError:
            raise RuntimeError("no job queue on this app: call geoapp.ingest.jobs.queue."
                               "init_app(app) (create_app does)") from None


queue = JobQueue()


def queue_for(app: Flask) -> procrastinate.App:
    """The job queue attached to the app by `queue.init_app`."""
    return queue.of(app)


def _instance_subdir(app: Flask, setting: str, default: str) -> Path:
    configured = app.config[setting]
    return Path(configured) if configured else Path(app.instance_path) / default


def export_dir(app: Flask) -> Path:
    """Where finished exports are kept (GEOAPP_EXPORT_DIR, default instance/exports)."""
    return _instance_subdir(app, "GEOAPP_EXPORT_DIR", "exports")


def work_dir(app: Flask) -> Path:
    """Where exports are written and workers keep scratch files (GEOAPP_WORK_DIR)."""
    return _instance_subdir(app, "GEOAPP_WORK_DIR", "work")


def upload_dir(app: Flask) -> Path:
    """Where uploads wait for the worker (GEOAPP_UPLOAD_DIR, default instance/uploads)."""
    return _instance_subdir(app, "GEOAPP_UPLOAD_DIR", "uploads")


# Unreferenced raster files are removed only once this old (seconds), whatever
# GEOAPP_ORPHAN_UPLOAD_AGE_S says.
RASTER_ORPHAN_MIN_AGE_S = 3600.0


def raster_dir(app: Flask) -> Path:
    """Where stored rasters are (GEOAPP_RASTER_DIR, default instance/rasters)."""
    return _instance_subdir(app, "GEOAPP_RASTER_DIR", "rasters")


def raster_target(app: Flask) -> rasters.RasterTarget:
    """The raster store and limits imports use."""
    return rasters.RasterTarget.from_config(app.config, raster_dir(app))


def perform_import(app: Flask, dataset_id: int, upload: str, options: dict[str, Any]) -> None:
    """Import an upload into its pending dataset, recording progress, outcome and report."""
    with app.app_context():
        engine = db.engine

        def progress(done: int, total: int) -> None:
            runs.record_progress(engine, dataset_id, min(done / max(total, 1), 0.99))

        try:
            request = ImportRequest.from_json(options)
        except AppError as error:  # a job queued by another version of the app
            files.remove_tree(Path(upload).parent)
            runs.fail(db.session, dataset_id, error.message)
            return
        runs.run_queued_import(db.session, dataset_id, Path(upload), request,
                               files.UnpackLimits.from_config(app.config), progress,
                               raster_target(app))


def perform_export(app: Flask, export_id: str) -> None:
    """Write a queued export into the export directory, batch by batch, and mark it ready.

    The file is written in a locked working directory removed whatever happens (a sweep
    removes it if this process dies), then moved into place; a refusal marks the export failed.
    """
    with app.app_context():
        session = db.session
        export = export_jobs.claim(session, export_id)
        if export is None:
            return
        config = app.config
        try:
            with workdirs.locked_dir(work_dir(app), EXPORT_DIR_PREFIX) as workdir:
                written = exports.write_export(
                    session, export.dataset_id, exports.FORMATS[export.format], workdir,
                    config["GEOAPP_EXPORT_BATCH_ZONES"])
                session.rollback()  # ends the read transaction before the file is moved
                target = export_dir(app) / export_id
                shutil.rmtree(target, ignore_errors=True)  # a half-moved earlier attempt
                target.mkdir(parents=True)
                final = target / written.path.name
                shutil.move(written.path, final)
            export_jobs.mark_ready(session, export_id, final.name, final.stat().st_size,
                                   config["GEOAPP_EXPORT_TTL_S"])
        except AppError as error:
            session.rollback()
            export_jobs.mark_failed(session, export_id, error.message)
        except Exception:
            session.rollback()
            export_jobs.mark_failed(session, export_id,
                                    "the export failed on an internal error; ask again later")
            raise


def enqueue_import(app: Flask, dataset_id: int, upload: Path, request: ImportRequest) -> None:
    """Queue an import job for a pending dataset."""
    jobs = queue_for(app)
    with jobs.open():
        jobs.configure_task(IMPORT_TASK).defer(
            dataset_id=dataset_id, upload=str(upload), options=request.to_json())


def enqueue_export(app: Flask, export_id: str) -> None:
    """Queue the job that writes an export."""
    jobs = queue_for(app)
    with jobs.open():
        jobs.configure_task(EXPORT_TASK).defer(export_id=export_id)


@dataclass
class StalledJobs:
    """Jobs of dead workers: those queued again, and those given up after MAX_ATTEMPTS."""

    retried: int = 0
    abandoned: list[procrastinate.jobs.Job] = field(default_factory=list)


async def _retry_stalled(queue: procrastinate.App,
                         seconds_since_heartbeat: float) -> StalledJobs:
    """Put back in the queue the jobs of workers without a heartbeat for that long."""
    found = StalledJobs()
    for name in QUEUES:
        for job in await queue.job_manager.get_stalled_jobs(
                queue=name, seconds_since_heartbeat=seconds_since_heartbeat):
            try:
                if job.attempts + 1 >= MAX_ATTEMPTS:
                    await queue.job_manager.finish_job(
                        job, status=procrastinate.jobs.Status.FAILED, delete_job=False)
                    found.abandoned.append(job)
                else:
                    await queue.job_manager.retry_job(job)
                    found.retried += 1
            except procrastinate.exceptions.ConnectorException:
                continue  # another worker's sweep handled it first
    return found


def record_abandoned(app: Flask, abandoned: list[procrastinate.jobs.Job]) -> None:
    """Mark the imports and exports of given-up jobs failed, and remove their uploads."""
    message = (f"its worker stopped {MAX_ATTEMPTS} times while doing it (out of memory?); "
               "nothing was kept")
    with app.app_context():
        for job in abandoned:
            kwargs = job.task_kwargs
            if job.task_name == IMPORT_TASK:
                runs.fail(db.session, int(kwargs["dataset_id"]),
                          f"the import failed: {message}", unless_finished=True)
                files.remove_tree(Path(str(kwargs["upload"])).parent)
            elif job.task_name == EXPORT_TASK:
                export_jobs.mark_failed(db.session, str(kwargs["export_id"]),
                                        f"the export failed: {message}")


async def _pending_uploads(queue: procrastinate.App) -> set[Path]:
    """The upload directories that queued or running import jobs still need."""
    needed = set()
    for status in ("todo", "doing"):
        for job in await queue.job_manager.list_jobs_async(task=IMPORT_TASK, status=status):
            upload = job.task_kwargs.get("upload")
            if isinstance(upload, str):
                needed.add(Path(upload).parent.resolve())
    return needed


def retry_stalled_jobs(app: Flask, seconds_since_heartbeat: float) -> StalledJobs:
    """Put back in the queue the jobs of workers that died (no heartbeat for a while).

    An import's transaction was rolled back with its connection and its upload is still on
    disk, so it simply runs again; an export is written again from the start. A job that
    already took MAX_ATTEMPTS workers down is given up and its dataset or export marked failed.
    """
    queue = queue_for(app)

    async def retry() -> StalledJobs:
        async with queue.open_async():
            return await _retry_stalled(queue, seconds_since_heartbeat)

    found = asyncio.run(retry())
    record_abandoned(app, found.abandoned)
    return found


@dataclass
class SweepReport:
    """What one sweep did."""

    retried_jobs: int = 0
    abandoned_jobs: int = 0
    removed: list[Path] = field(default_factory=list)
    expired_exports: int = 0


def _remove_older(entries: list[Path], oldest_allowed: float, keep: set[Path]) -> list[Path]:
    """Remove the directories last changed before `oldest_allowed` (a time), except `keep`."""
    removed = []
    for entry in entries:
        try:
            stale = entry.is_dir() and entry.stat().st_mtime < oldest_allowed
        except FileNotFoundError:
            continue
        if stale and entry.resolve() not in keep:
            files.remove_tree(entry)
            removed.append(entry)
    return removed


def sweep_files(app: Flask, needed_uploads: set[Path],
                system_temp: Path | None = None) -> SweepReport:
    """Remove dead working directories, expired and orphaned exports, and abandoned uploads.

    Working directories are dead when no process holds their lock; export directories when
    their export is no longer queued, running or ready; upload directories when no queued or
    running import needs them and they are older than GEOAPP_ORPHAN_UPLOAD_AGE_S (a request
    may be between saving one and queueing its job); the web's and CLI's import directories
    in `system_temp` after SYSTEM_TEMP_MAX_AGE_S.
    """
    report = SweepReport()
    scratch = work_dir(app)
    for prefix in (WORKER_DIR_PREFIX, EXPORT_DIR_PREFIX):
        report.removed += workdirs.remove_abandoned(scratch, prefix)
    with app.app_context():
        session = db.session
        report.expired_exports = len(export_jobs.expire_due(session))
        export_jobs.purge_finished(session, app.config["GEOAPP_EXPORT_TTL_S"])
        live = export_jobs.live_export_ids(session)
    exported = export_dir(app)
    if exported.is_dir():
        for entry in exported.iterdir():
            if entry.is_dir() and entry.name not in live:
                files.remove_tree(entry)
                report.removed.append(entry)
    oldest_allowed = time.time() - app.config["GEOAPP_ORPHAN_UPLOAD_AGE_S"]
    with app.app_context():
        # Never younger than an hour: a stored raster is only ever an orphan after a crash.
        report.removed += rasters.sweep_orphans(
            db.session, raster_target(app).store,
            min(oldest_allowed, time.time() - RASTER_ORPHAN_MIN_AGE_S))
        db.session.rollback()
    waiting = upload_dir(app)
    if waiting.is_dir():
        report.removed += _remove_older(list(waiting.iterdir()), oldest_allowed,
                                        needed_uploads)
    if system_temp is not None and system_temp.is_dir():
        report.removed += _remove_older(
            [p for p in system_temp.iterdir() if p.name.startswith(SYSTEM_TEMP_PREFIXES)],
            time.time() - SYSTEM_TEMP_MAX_AGE_S, set())
    return report


async def sweep(app: Flask, queue: procrastinate.App, stalled_after_s: float,
                system_temp: Path | None = None) -> SweepReport:
    """One round of upkeep: retry stalled jobs, then remove what nobody owns any more."""
    stalled = await _retry_stalled(queue, stalled_after_s)
    if stalled.abandoned:
        await asyncio.to_thread(record_abandoned, app, stalled.abandoned)
    needed = await _pending_uploads(queue)
    report = await asyncio.to_thread(sweep_files, app, needed, system_temp)
    report.retried_jobs = stalled.retried
    report.abandoned_jobs = len(stalled.abandoned)
    return report


async def _keep_sweeping(app: Flask, queue: procrastinate.App, stalled_after_s: float,
                         every_s: float, system_temp: Path) -> None:
    """Sweep every `every_s` seconds until cancelled; a failed round is logged, not fatal."""
    while True:
        try:
            report = await sweep(app, queue, stalled_after_s, system_temp)
        except Exception:
            app.logger.exception("worker sweep failed; trying again in %s s", every_s)
        else:
            if report.retried_jobs:
                app.logger.warning("retrying %d job(s) left by a worker that stopped",
                                   report.retried_jobs)
            if report.abandoned_jobs:
                app.logger.error("gave up %d job(s) that stopped %d workers",
                                 report.abandoned_jobs, MAX_ATTEMPTS)
            for path in report.removed:
                app.logger.info("removed abandoned %s", path)
        await asyncio.sleep(every_s)


def run_worker(app: Flask, concurrency: int = 1, stalled_after_s: float = 30.0) -> None:
    """Process import and export jobs until interrupted, sweeping up after dead workers.

    The worker's heartbeat is sent three times per `stalled_after_s`, so only a worker that
    stopped is ever taken as stalled. Its scratch directory (where imports unpack) is locked
    for its lifetime, so the other workers remove it if it is killed.
    """
    queue = queue_for(app)
    scratch = workdirs.create(work_dir(app), WORKER_DIR_PREFIX)
    system_temp = Path(tempfile.gettempdir())
    # Imports unpack with tempfile.mkdtemp: into this worker's own, swept, directory.
    tempfile.tempdir = str(scratch.path)

    async def work() -> None:
        async with queue.open_async():
            sweeper = asyncio.create_task(_keep_sweeping(
                app, queue, stalled_after_s, app.config["GEOAPP_WORKER_SWEEP_S"], system_temp))
            try:
                await queue.run_worker_async(
                    queues=list(QUEUES), concurrency=concurrency,
                    update_heartbeat_interval=max(stalled_after_s / 3, 0.5),
                    stalled_worker_timeout=stalled_after_s)
            finally:
                sweeper.cancel()

    try:
        asyncio.run(work())
    finally:
        tempfile.tempdir = None
        scratch.release()
