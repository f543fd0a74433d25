"""The application's own words stored in the database: dataset and export states, user roles.

They live next to the models (not in ``geoapp.users`` or ``geoapp.ingest``) because the
models' check constraints are built from them, and ``db`` is the bottom layer everyone may
import. Members are ``StrEnum``s: they compare equal to, and serialize as, their plain value.
"""

from __future__ import annotations

from enum import StrEnum


class DatasetStatus(StrEnum):
    """Where a dataset is in its life: queued, importing, then ready or failed; later retired."""

    QUEUED = "queued"
    IMPORTING = "importing"
    READY = "ready"
    FAILED = "failed"
    # Superseded by a newer version of the same map; still answers `as_of` questions.
    RETIRED = "retired"


class ExportStatus(StrEnum):
    """Where a dataset export is: queued, running, then ready (until expired) or failed."""

    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"


class RasterKind(StrEnum):
    """What a raster layer holds: ground elevation, or an event's water depth or surface."""

    DEM = "dem"
    DEPTH = "depth"
    WSE = "wse"


class Role(StrEnum):
    """What an account may do, from least to most (the declaration order is the rank)."""

    VIEWER = "viewer"
    ANALYST = "analyst"
    ADMIN = "admin"


# An export that is, or will soon be, downloadable: at most one per dataset, format and version.
LIVE_EXPORT_STATUSES = (ExportStatus.QUEUED, ExportStatus.RUNNING, ExportStatus.READY)
