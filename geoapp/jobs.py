"""Background imports on procrastinate, a job queue kept in PostgreSQL (no other service).

`flask worker` runs the worker; `queue_for(app)` gives the queue to defer jobs on. A job
carries the dataset id, the upload's working directory and the import options; procrastinate
hands each job to exactly one worker, however many run.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import procrastinate
from flask import Flask

from geoapp import imports, pipeline, uploads
from geoapp.extensions import db

QUEUE = "imports"
IMPORT_TASK = "geoapp:import_dataset"
# The Flask app of a worker process, set by `flask worker` (jobs run outside any request).
_worker_app: dict[str, Flask] = {}


def libpq_url(sqlalchemy_url: str) -> str:
    """A SQLAlchemy URL as the plain postgresql:// URL psycopg 3 takes."""
    scheme, rest = sqlalchemy_url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else sqlalchemy_url


def queue_for(app: Flask) -> procrastinate.App:
    """The job queue on the app's database (one per app, created on first use)."""
    queue = app.extensions.get("geoapp.queue")
    if queue is None:
        connector = procrastinate.PsycopgConnector(
            conninfo=libpq_url(app.config["SQLALCHEMY_DATABASE_URI"]),
            kwargs={"application_name": "floodmanager-jobs"},
        )
        queue = procrastinate.App(connector=connector)
        # Registered on each queue by its full name: a shared procrastinate Blueprint is
        # renamed in place when added, so a second app in one process (tests, scripts) got
        # "geoapp:geoapp:..." and its jobs went to the default queue, which no worker reads.
        queue.task(name=IMPORT_TASK, queue=QUEUE)(import_dataset)
        app.extensions["geoapp.queue"] = queue
    return queue


def upload_limits(config: Any) -> uploads.UnpackLimits:
    """Unpacking limits from the app's settings."""
    return uploads.UnpackLimits(
        max_uncompressed_bytes=config["GEOAPP_UPLOAD_MAX_UNPACKED_MB"] * 1024 * 1024,
        max_ratio=config["GEOAPP_UPLOAD_MAX_RATIO"],
    )


def perform_import(app: Flask, dataset_id: int, upload: str, options: dict[str, Any]) -> None:
    """Import an upload into its pending dataset, recording progress, outcome and report."""
    with app.app_context():
        engine = db.engine

        def progress(done: int, total: int) -> None:
            imports.record_progress(engine, dataset_id, min(done / max(total, 1), 0.99))

        imports.run_to_completion(db.session, dataset_id, Path(upload),
                                  imports.options_from_form(options), upload_limits(app.config),
                                  progress)


def import_dataset(dataset_id: int, upload: str, options: dict[str, Any]) -> None:
    """The queued import job (runs in `flask worker`)."""
    perform_import(_worker_app["app"], dataset_id, upload, options)


def enqueue_import(app: Flask, dataset_id: int, upload: Path,
                   options: pipeline.ImportOptions) -> None:
    """Queue an import job for a pending dataset."""
    queue = queue_for(app)
    with queue.open():
        queue.configure_task(IMPORT_TASK).defer(
            dataset_id=dataset_id, upload=str(upload), options=imports.options_json(options))


def retry_stalled_imports(app: Flask, seconds_since_heartbeat: float) -> int:
    """Put back in the queue the imports of workers that died (no heartbeat for a while).

    Their transaction was rolled back with their connection and their upload is still on disk,
    so the import simply runs again.
    """
    queue = queue_for(app)

    async def retry() -> int:
        async with queue.open_async():
            stalled = list(await queue.job_manager.get_stalled_jobs(
                queue=QUEUE, task_name=IMPORT_TASK,
                seconds_since_heartbeat=seconds_since_heartbeat))
            for job in stalled:
                await queue.job_manager.retry_job(job)
        return len(stalled)

    return asyncio.run(retry())


def run_worker(app: Flask, concurrency: int = 1, stalled_after_s: float = 30.0) -> None:
    """Process import jobs until interrupted, first taking back those of dead workers."""
    _worker_app["app"] = app
    retried = retry_stalled_imports(app, stalled_after_s)
    if retried:
        app.logger.warning("retrying %d import(s) left by a worker that stopped", retried)
    queue_for(app).run_worker(queues=[QUEUE], concurrency=concurrency)
