"""The import pipeline shared by the web upload, the API, the CLI and the worker (no Flask).

Its stages, each a module of this package, in the order a layer goes through them:

1. `plan`: open the file with GDAL (pyogrio), choose the layer, CRS, encoding and fields;
2. `read`: the features in chunks of bounded size (GDAL's Arrow stream);
3. `check`: reproject to EPSG:4326 with pyproj, check and repair polygons with shapely/GEOS
   (geoapp.geo.polygons);
4. `encode`: COPY text for the zones; large zones cut into lookup pieces here
   (geoapp.ingest.pieces) while the database loads the previous batch; small ones get theirs
   from the database trigger;
5. `load`: bulk COPY into `flood_zones` inside the caller's transaction, then the dataset
   switches to `ready` (retiring an older version of the same name) in that same
   transaction, so a failure, a crash or a killed worker leaves the database as it was.

`report` holds what happened to every feature. `import_layer` runs them all.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from geoapp.db.models import Dataset
from geoapp.errors import InvalidInput
from geoapp.ingest.pipeline import encode, load
from geoapp.ingest.pipeline.check import ChunkChecker
from geoapp.ingest.pipeline.plan import plan_layer
from geoapp.ingest.pipeline.read import read_chunks
from geoapp.ingest.pipeline.report import ImportRejected, ImportReport
from geoapp.ingest.request import ImportRequest

Progress = Callable[[int, int], None]


def import_layer(session: Session, dataset: Dataset, source: str | Path,
                 request: ImportRequest, progress: Progress | None = None) -> ImportReport:
    """Import a vector file into `dataset` within the session's transaction; the caller commits.

    On InvalidInput nothing has been written that the caller's rollback does not undo.
    """
    started = time.perf_counter()
    plan = plan_layer(source, request)
    report = ImportReport(source=Path(str(source)).name, layer=plan.layer,
                          source_crs=plan.crs_label, encoding=plan.encoding)
    zones: Counter[str] = Counter()
    # Extent of what was imported, kept as it goes: no scan of the zones at the end.
    bounds = np.array([np.inf, np.inf, -np.inf, -np.inf])
    dbapi = session.connection().connection.dbapi_connection
    load.importer_cuts_pieces(dbapi, True)
    # The database loads one batch while Python prepares the next (the driver, PROJ and GEOS
    # release the GIL); only one statement is ever in flight on the connection. Large zones
    # are cut on two helper threads, a few batches ahead of their load.
    with ThreadPoolExecutor(max_workers=1) as loader, \
            ThreadPoolExecutor(max_workers=2) as helpers:
        checker = ChunkChecker(plan, request, report, helpers)
        in_flight: Future[None] | None = None

        def submit(task: Callable[..., None], *args: Any) -> None:
            nonlocal in_flight
            if in_flight is not None:
                in_flight.result()
            in_flight = loader.submit(task, dbapi, *args)

        for first, geometries, names, columns in read_chunks(plan, request):
            typed = encode.typed_columns(plan, names, columns, len(geometries))
            geometries, keep = checker.check(first, geometries, typed["fld_zone"])
            kept = np.flatnonzero(keep)
            rows = encode.chunk_rows(dataset.id, typed, names, columns, geometries, kept)
            if rows.bounds is not None:
                zones.update(typed["fld_zone"][i] for i in kept)
                bounds = np.concatenate([np.minimum(bounds[:2], rows.bounds[:2]),
                                         np.maximum(bounds[2:], rows.bounds[2:])])
            if rows.small:
                submit(load.copy_rows, rows.small)
            cuts: deque[Future[encode.CutZones]] = deque()
            for lines, large in rows.large_batches():
                cuts.append(helpers.submit(encode.CutZones.cut, lines, large))
                if len(cuts) > load.CUTS_AHEAD:
                    submit(load.copy_cut_zones, cuts.popleft().result())
            while cuts:
                submit(load.copy_cut_zones, cuts.popleft().result())
            report.imported += rows.count
            if progress is not None:
                progress(report.features_read, plan.feature_count)
        if in_flight is not None:
            in_flight.result()
    load.importer_cuts_pieces(dbapi, False)
    if report.rejected_count and not request.repair:
        raise ImportRejected(report)
    if report.imported == 0:
        why = "".join(f"; feature {r['index']}: {r['reason']}" for r in report.rejected[:3])
        raise InvalidInput(f"no polygon could be imported from layer {plan.layer!r} "
                           f"({report.features_read} features read{why})",
                           code="nothing_imported")
    load.mark_ready(session, dataset, plan, request, report, bounds)
    report.zones = dict(sorted(zones.items()))
    report.elapsed_s = round(time.perf_counter() - started, 3)
    dataset.import_report = report.as_json()
    session.flush()
    return report
