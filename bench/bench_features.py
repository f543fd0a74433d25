"""Features API benchmark: FloodManager, tipg and pygeoapi serving the same PostGIS table.

FloodManager runs as shipped (`flask serve`: Granian) and pygeoapi under gunicorn, with the
same workers and threads, tipg under uvicorn with the same number of worker processes (it is
async: one event loop each), all on loopback; wrk sends each the same requests (random paths
from one list, the collection's own id put in) with the same concurrency:

- ``items?limit=100``                   first pages of the whole collection      (first)
- ``items?limit=100&offset=...``        pages at random offsets in [0, zones)    (offsets)
- ``items?bbox=...&limit=100`` x 3      random boxes of about 1 km, 5 km, 20 km  (bbox1,
                                                                                  bbox5, bbox20)
- ``items/{id}``                        random single zones                      (item)

Before the wrk runs, the first paths of each scenario are asked of every server once and the
features they return counted, so that servers answering differently show; after each run,
the requests wrk left in flight are let finish in the database before the next one starts.
Then, one client at a time (deep): ``items?limit=100`` at offset 0, 10,000 and the last page
(median of 3), and 400 pages reached by following each server's own ``next`` links from the
first page (FloodManager's carry a cursor, tipg's and pygeoapi's an offset). Last (bigpage),
the memory of one worker while it serves ``items?limit=10000`` pages (streamed by
FloodManager; pygeoapi builds each page in memory).

    .venv/bin/python bench/bench_features.py [--duration 10] [--clients 16]
        [--database floodmanager_bench_cli] [--only FloodManager,tipg]
        [--scenarios first,offsets,bbox1,bbox5,bbox20,item,deep,bigpage] [--next-pages 400]
    .venv/bin/python bench/bench_features.py --explain [--scenarios ...]

``--database`` picks the map: the default bench database with the large synthetic dataset
(generated on first use), or another one that already holds zones, such as
``floodmanager_bench_cli`` (made by bench/generate_gpkg.py through ``flask zones import``).
``--explain`` starts no server: it prints ``EXPLAIN (ANALYZE, BUFFERS)`` of the SQL that
FloodManager runs for each scenario (first page, offset 10,000, the last page, a cursor page,
one box of each size, one zone; with the count behind numberMatched when the app runs it),
built by the app's own parameter model and query builders and run on a connection with the
app's settings.

pygeoapi is installed into var/bench/pygeoapi-venv on first use (its last release that runs
on Python 3.11), with its PostgreSQL provider, pointed at the bench database; tipg into
var/bench/tipg-venv, publishing only the flood_zones table, asked for FloodManager's
properties and its `geom` column (the table also has a stored overview geometry). Both
publish the bare table: if it holds zones of datasets that are not ready, they serve more
zones than FloodManager (the bench says so).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    BENCH_SECRET_KEY,
    PROJECT,
    add_map_arguments,
    bench_map,
    floodmanager,
    free_port,
    gunicorn_app,
    parse_wrk,
    peak_rss_mib,
    require_tool,
    serving,
    wait_idle,
    worker_pids,
)
from generate_large import random_points  # noqa: E402

from geoapp.db.models import FloodZone  # noqa: E402
from geoapp.ogc.features import PROPERTIES  # noqa: E402

PYGEOAPI_VERSION = "0.21.0"
PYGEOAPI_VENV = PROJECT / "var" / "bench" / "pygeoapi-venv"
TIPG_VERSION = "1.6.1"
TIPG_VENV = PROJECT / "var" / "bench" / "tipg-venv"
COLLECTION = "flood_zones"
# The served properties, as every server is asked for them (tipg would add every column).
SERVED_PROPERTIES = [name for name in PROPERTIES if name in FloodZone.__table__.columns]
PATHS_PER_SCENARIO = 2000


def pygeoapi_bin() -> Path:
    """The bin directory of a virtualenv with pygeoapi and its PostgreSQL provider."""
    python = PYGEOAPI_VENV / "bin" / "python"
    if not (PYGEOAPI_VENV / "bin" / "pygeoapi").exists():
        print(f"installing pygeoapi {PYGEOAPI_VERSION} into {PYGEOAPI_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(PYGEOAPI_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        f"pygeoapi=={PYGEOAPI_VERSION}", "psycopg2-binary", "geoalchemy2",
                        "gunicorn"], check=True)
    return PYGEOAPI_VENV / "bin"


def pygeoapi_config(url: sa.URL, base: str) -> dict:
    """A pygeoapi configuration publishing the flood_zones table (JSON is valid YAML)."""
    return {
        "server": {
            "bind": {"host": "127.0.0.1", "port": 0},
            "url": base,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["en-US"],
            "limits": {"default_items": 100, "max_items": 10000},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    "attribution": "OpenStreetMap"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": "bench", "description": "bench", "keywords": ["bench"],
                               "keywords_type": "theme", "terms_of_service": "none",
                               "url": base},
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "bench", "url": base},
            "contact": {"name": "bench"},
        },
        "resources": {
            COLLECTION: {
                "type": "collection",
                "title": "Flood zones",
                "description": "The same table FloodManager serves",
                "keywords": ["flood"],
                "links": [],
                "extents": {"spatial": {"bbox": [-180, -90, 180, 90],
                                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
                "providers": [{
                    "type": "feature",
                    "name": "PostgreSQL",
                    "data": {"host": url.host, "port": url.port, "dbname": url.database,
                             "user": url.username, "password": url.password or "",
                             "search_path": ["public"]},
                    "id_field": "id",
                    "table": "flood_zones",
                    "geom_field": "geom",
                    # The table's columns that FloodManager serves too. Listed, because the
                    # stored overview (a second geometry column) breaks pygeoapi's JSON.
                    "properties": SERVED_PROPERTIES,
                }],
            }
        },
    }


def pygeoapi_server(url: sa.URL, workdir: Path, workers: int, threads: int):
    """pygeoapi under gunicorn (a context manager yielding (base URL, process))."""
    bin_dir = pygeoapi_bin()
    config = workdir / "pygeoapi.yml"
    config.write_text(json.dumps(pygeoapi_config(url, "http://127.0.0.1")))
    openapi = workdir / "pygeoapi-openapi.yml"
    env = {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    subprocess.run([str(bin_dir / "pygeoapi"), "openapi", "generate", str(config),
                    "--output-file", str(openapi)], check=True, env={**os.environ, **env},
                   stdout=subprocess.DEVNULL)
    return gunicorn_app(bin_dir / "gunicorn", "pygeoapi.flask_app:APP", env,
                        f"/collections/{COLLECTION}", workers, threads, cwd=workdir)


def tipg_bin() -> Path:
    """The bin directory of a virtualenv with tipg and uvicorn."""
    if not (TIPG_VENV / "bin" / "uvicorn").exists():
        print(f"installing tipg {TIPG_VERSION} into {TIPG_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run([str(TIPG_VENV / "bin" / "pip"), "install", "--quiet",
                        f"tipg=={TIPG_VERSION}", "uvicorn"], check=True)
    return TIPG_VENV / "bin"


@contextlib.contextmanager
def tipg_server(url: sa.URL, workers: int, _threads: int, env: dict[str, str] | None = None
                ) -> Iterator[tuple[str, subprocess.Popen]]:
    """tipg under uvicorn on a free loopback port; yields (base URL, master process).

    ``env`` adds settings (TIPG_MAX_FEATURES_PER_TILE, ...) to the ones given here."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url.set(drivername="postgresql").render_as_string(hide_password=False),
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": f'["public.{COLLECTION}"]',
        "TIPG_DB_SPATIAL_EXTENT": "false",  # its extent query scans the table at start
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
        **(env or {}),
    }
    process = subprocess.Popen(
        [str(tipg_bin() / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--no-access-log"], env=env)
    with serving(process, f"http://127.0.0.1:{port}", f"/collections/{TIPG_COLLECTION}",
                 "tipg", start_timeout_s=120) as base:
        yield base, process


TIPG_COLLECTION = f"public.{COLLECTION}"
# What tipg is asked on top of the common path, so that it serves what the others serve.
TIPG_QUERY = f"properties={','.join(SERVED_PROPERTIES)}&geom-column=geom"


def for_server(paths: list[str], collection: str, extra_query: str = "") -> list[str]:
    """The scenario's paths with a server's collection id (and query parameters) put in."""
    out = []
    for path in paths:
        path = path.replace("{collection}", collection)
        if extra_query:
            path += ("&" if "?" in path else "?") + extra_query
        out.append(path)
    return out


# The wrk scenarios, by the names --scenarios takes (in the order they run and print) ...
SCENARIOS = {
    "first": "items?limit=100",
    "offsets": "limit=100 random offset",
    "bbox1": "bbox ~1 km",
    "bbox5": "bbox ~5 km",
    "bbox20": "bbox ~20 km",
    "item": "items/{id}",
}
# ... and the sections that follow them.
SECTIONS = {"deep": "deep pages, one client", "bigpage": "items?limit=10000 and worker memory"}
BBOX_SIZES_DEG = {"bbox1": 0.01, "bbox5": 0.05, "bbox20": 0.2}
SERVER_KEYS = ("FloodManager", "tipg", "pygeoapi")
# Paths of each scenario asked of every server once, their features counted, before wrk.
SAMPLED_PATHS = 5
PAGE = 100
DEEP_OFFSET = 10000
DEEP_RUNS = 3
# A wrk rate from fewer completed requests than this is flagged as unreliable.
FEW_REQUESTS = 20


def scenario_paths(engine: sa.Engine, bbox, zones: int, wanted: list[str]
                   ) -> dict[str, list[str]]:
    """The request paths of the wanted scenarios, by key (relative to the API root,
    `{collection}` open). Seeded: the same lists in every run and for every server."""
    items = "/collections/{collection}/items"
    xmin, ymin, xmax, ymax = bbox
    paths: dict[str, list[str]] = {}
    if "first" in wanted:
        paths["first"] = [f"{items}?limit={PAGE}"]
    if "offsets" in wanted:
        rng = random.Random(13)
        paths["offsets"] = [f"{items}?limit={PAGE}&offset={rng.randrange(zones)}"
                            for _ in range(PATHS_PER_SCENARIO)]
    for key, size in BBOX_SIZES_DEG.items():
        if key not in wanted:
            continue
        corners = random_points(PATHS_PER_SCENARIO, seed=int(size * 1000),
                                bbox=(xmin, ymin, max(xmin, xmax - size), max(ymin, ymax - size)))
        paths[key] = [f"{items}?bbox={x:.5f},{y:.5f},{x + size:.5f},{y + size:.5f}&limit={PAGE}"
                      for x, y in corners]
    if "item" in wanted:
        with engine.connect() as conn:
            # The same random zones in every run (one 30,000-vertex zone in the list weighs
            # more than a hundred small ones).
            conn.execute(sa.text("SELECT setseed(0.42)"))
            ids = conn.scalars(sa.text("SELECT id FROM flood_zones ORDER BY random() LIMIT :n"),
                               {"n": PATHS_PER_SCENARIO}).all()
        paths["item"] = [f"{items}/{i}" for i in ids]
    return paths


@dataclasses.dataclass(frozen=True)
class Server:
    """One server of the comparison and how its requests are spelt."""

    name: str  # as printed
    start: Callable[[int, int], contextlib.AbstractContextManager]  # (workers, threads)
    prefix: str  # the API root under the base URL
    collection: str  # its id of the flood_zones table
    extra: str = ""  # query parameters added to every request

    def paths(self, paths: list[str]) -> list[str]:
        """Scenario paths as this server is asked them (prefix not included)."""
        return for_server(paths, self.collection, self.extra)

    def items_url(self, base: str, query: str) -> str:
        """The URL of this server's items with a query."""
        [path] = self.paths([f"/collections/{{collection}}/items?{query}"])
        return f"{base}{self.prefix}{path}"


def make_servers(url: str, workdir: Path, only: list[str]) -> dict[str, Server]:
    """The servers to run, by key, in the order of SERVER_KEYS."""
    db_url = sa.engine.make_url(url)
    every = {
        "FloodManager": Server("FloodManager", lambda w, t: floodmanager(url, w, t), "/api",
                               COLLECTION),
        "tipg": Server(f"tipg {TIPG_VERSION}", lambda w, t: tipg_server(db_url, w, t), "",
                       TIPG_COLLECTION, TIPG_QUERY),
        "pygeoapi": Server(f"pygeoapi {PYGEOAPI_VERSION}",
                           lambda w, t: pygeoapi_server(db_url, workdir, w, t), "", COLLECTION),
    }
    return {key: every[key] for key in only}


def choose(raw: str | None, choices, option: str) -> list[str]:
    """The names of a comma-separated option (any case), in the order of ``choices``; all of
    them when the option is absent."""
    if raw is None:
        return list(choices)
    by_lower = {choice.lower(): choice for choice in choices}
    picked = set()
    for part in filter(None, (p.strip() for p in raw.split(","))):
        if part.lower() not in by_lower:
            sys.exit(f"{option}: unknown {part!r}; choose among {','.join(choices)}")
        picked.add(by_lower[part.lower()])
    if not picked:
        sys.exit(f"{option}: name at least one of {','.join(choices)}")
    return [choice for choice in choices if choice in picked]


def timed_get(url: str) -> tuple[float, bytes]:
    """Milliseconds until the whole body of a GET has arrived, and the body."""
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=300) as response:
        body = response.read()
    return (time.perf_counter() - start) * 1000, body


def feature_count(url: str) -> str:
    """How many features a response holds (1 for a Feature), or its HTTP error."""
    try:
        document = json.loads(timed_get(url)[1])
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    if document.get("type") == "Feature":
        return "1"
    return str(len(document.get("features", [])))


def next_link(document: dict) -> str | None:
    """The href of a page's `next` link, if it has one."""
    for link in document.get("links", []):
        if link.get("rel") == "next":
            return link["href"]
    return None


def on_base(base: str, href: str) -> str:
    """A link's path and query on the server's own base URL (pygeoapi's links name the
    configured host without the bench's port)."""
    parts = urllib.parse.urlsplit(href)
    return base + parts.path + (f"?{parts.query}" if parts.query else "")


def deep_pages(base: str, server: Server, zones: int, pages: int) -> dict:
    """One client: pages at offset 0, 10,000 and the end (median of 3), then `pages` pages
    reached by following the server's `next` links from the first page."""
    last_offset = max(zones - PAGE, 0)
    offsets = {"first": 0, "deep": min(DEEP_OFFSET, last_offset), "last": last_offset}
    at = {label: statistics.median(
              timed_get(server.items_url(base, f"limit={PAGE}&offset={offset}"))[0]
              for _ in range(DEEP_RUNS))
          for label, offset in offsets.items()}
    url = server.items_url(base, f"limit={PAGE}")
    document = json.loads(timed_get(url)[1])
    seen = [str(feature.get("id")) for feature in document["features"]]
    times: list[float] = []
    while len(times) < pages and (href := next_link(document)):
        url = on_base(base, href)
        ms, body = timed_get(url)
        times.append(ms)
        document = json.loads(body)
        seen.extend(str(feature.get("id")) for feature in document["features"])
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    dropped = [name for name, _ in urllib.parse.parse_qsl(server.extra) if name not in query]
    return {"offsets": offsets, "ms": at, "pages": len(times),
            "mean_ms": statistics.fmean(times) if times else float("nan"),
            "last_ms": times[-1] if times else float("nan"),
            "features": len(seen), "distinct": len(set(seen)),
            "kind": "cursor" if "cursor" in query else "offset" if "offset" in query else "?",
            "dropped": dropped}


def run_wrk(base: str, prefix: str, paths: list[str], clients: int, duration: int,
            workdir: Path) -> dict:
    """wrk against one server with random picks from a list of paths."""
    wrk = require_tool("wrk", "wrk")
    listing = workdir / "paths.txt"
    listing.write_text("\n".join(paths) + "\n")
    env = {**os.environ, "BENCH_PATHS": str(listing), "BENCH_PREFIX": prefix}
    command = [wrk, "-t2", f"-c{clients}", f"-d{duration}s", "--latency", "--timeout", "30s",
               "-s", str(PROJECT / "bench" / "wrk_paths.lua"), base]
    return parse_wrk(subprocess.run(command, capture_output=True, text=True, env=env,
                                    check=True).stdout)


def big_page_memory(base: str, prefix: str, process, collection: str = COLLECTION,
                    extra_query: str = "", pages: int = 3) -> dict:
    """Peak RSS of the single worker before and after serving 10,000-feature pages."""
    # uvicorn with one worker serves from its main process; Granian and gunicorn fork one.
    [worker] = worker_pids(process.pid) or [process.pid]
    extra = f"&{extra_query}" if extra_query else ""
    urllib.request.urlopen(f"{base}{prefix}/collections/{collection}/items?limit=10{extra}").read()
    idle = peak_rss_mib([worker])
    size, start = 0, time.perf_counter()
    for page in range(pages):
        url = (f"{base}{prefix}/collections/{collection}/items?limit=10000"
               f"&offset={page * 10000}{extra}")
        with urllib.request.urlopen(url, timeout=300) as response:
            while chunk := response.read(1 << 16):
                size += len(chunk)
    return {"idle_mib": idle, "peak_mib": peak_rss_mib([worker]),
            "seconds_per_page": (time.perf_counter() - start) / pages,
            "mib_per_page": size / pages / 2**20}


def explain(bench, paths: dict[str, list[str]]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of FloodManager's SQL for each scenario.

    The queries are what the app runs: the scenario's query string read by the app's own
    parameter model (ItemsQueryModel), turned into SQL by its builders (items_statement,
    one_item_statement; with the window count that items_page adds when the planner expects
    few enough rows), compiled for PostgreSQL with the values written in, and run on a
    connection with the app's settings (jit off, cursor_tuple_fraction 1, its timeout).
    """
    from sqlalchemy.orm import Session

    from geoapp.config import build_config
    from geoapp.db.queries import features as features_sql
    from geoapp.ogc import features
    from geoapp.web.contract.queries import ItemsQueryModel

    with tempfile.TemporaryDirectory() as instance:
        config = build_config(instance, {"DATABASE_URL": bench.url,
                                         "SECRET_KEY": BENCH_SECRET_KEY})
    engine = sa.create_engine(config["SQLALCHEMY_DATABASE_URI"],
                              **config["SQLALCHEMY_ENGINE_OPTIONS"])

    def read(query_string: str):
        return ItemsQueryModel.read(dict(urllib.parse.parse_qsl(query_string)),
                                    config).to_query(config)

    def query_of(path: str) -> str:
        return urllib.parse.urlsplit(path).query

    last_offset = max(bench.zones - PAGE, 0)
    deep = min(DEEP_OFFSET, last_offset)
    pages: list[tuple[str, str]] = []
    if "first" in paths or "deep" in paths or "offsets" in paths:
        pages += [("first page", f"limit={PAGE}"),
                  (f"offset {deep:,}", f"limit={PAGE}&offset={deep}"),
                  (f"last page, offset {last_offset:,}", f"limit={PAGE}&offset={last_offset}")]
    with Session(engine) as session:
        if pages:
            # The cursor FloodManager's `next` link carries after `deep` rows: made by the app
            # from the page before it.
            before = read(f"limit={PAGE}&offset={max(deep - PAGE, 0)}")
            page = features.ItemsPage(session=session, query=before)
            for _ in page.features():
                pass
            key = page.next_key()
            if key is not None:
                cursor = features.encode_cursor(key, before.sortby)
                pages.append((f"cursor page after {key.offset:,} rows",
                              f"limit={PAGE}&cursor={cursor}"))
        for scenario in BBOX_SIZES_DEG:
            if scenario in paths:
                pages.append((f"{SCENARIOS[scenario]} page", query_of(paths[scenario][0])))
        session.rollback()
        conn = session.connection()

        def show(title: str, statement) -> None:
            sql = str(statement.compile(dialect=engine.dialect,
                                        compile_kwargs={"literal_binds": True}))
            print(f"-- {title}\n{' '.join(sql.split())}")
            try:
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql).scalars().all()
            except sa.exc.DBAPIError as exc:
                print(f"   failed: {str(exc.orig).strip()}")
                conn.rollback()
                return
            print("\n".join("   " + line for line in plan))

        print(f"\nEXPLAIN (ANALYZE, BUFFERS) of FloodManager's SQL ({bench.database}, "
              f"{bench.zones} zones)")
        for title, query_string in pages:
            query = read(query_string)
            print(f"\n=== {title}: items?{query_string[:140]}")
            page = features.items_page(session, query, config["GEOAPP_EXACT_COUNT_LIMIT"])
            counted = ("counted by the page (a window count)" if page.counts_matched
                       else "not counted")
            show(f"the page; numberMatched {counted}",
                 features.items_statement(query, page.counts_matched, page.conditions()))
        if "item" in paths:
            zone_id = int(paths["item"][0].rsplit("/", 1)[1])
            query = read("")
            print(f"\n=== items/{zone_id}")
            statement = features.one_item_statement(features.OutputOptions.of(query))
            show("the zone", statement.params({features_sql.ZONE_ID: zone_id}))
    engine.dispose()


def main() -> None:
    """Run the scenarios on the chosen servers and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_map_arguments(parser)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--only", help=f"comma list of servers among {','.join(SERVER_KEYS)}")
    parser.add_argument("--scenarios",
                        help=f"comma list among {','.join([*SCENARIOS, *SECTIONS])}")
    parser.add_argument("--next-pages", type=int, default=400,
                        help="next links followed in the deep-pages section")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN (ANALYZE, BUFFERS) of FloodManager's SQL for each "
                             "scenario instead of running the servers")
    args = parser.parse_args()
    only = choose(args.only, SERVER_KEYS, "--only")
    wanted = choose(args.scenarios, [*SCENARIOS, *SECTIONS], "--scenarios")

    bench = bench_map(args.database, args.zones)
    engine = sa.create_engine(bench.url)
    paths = scenario_paths(engine, bench.bbox, bench.zones, wanted)
    engine.dispose()
    note = ""
    if bench.table_rows != bench.zones:
        note = (f" (the table holds {bench.table_rows} rows: tipg and pygeoapi serve them all, "
                "FloodManager only those of ready datasets)")
    print(f"database {bench.database}: {bench.zones} zones{note}", flush=True)
    if args.explain:
        explain(bench, {**paths, **{s: [] for s in SECTIONS if s in wanted}})
        return

    results: dict[str, dict[str, dict]] = {}
    counts: dict[str, dict[str, list[str]]] = {}
    deep: dict[str, dict] = {}
    memory: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        servers = make_servers(bench.url, workdir, only)
        # Every server is up at once and each scenario runs on one after the other: this
        # shared machine's speed drifts by a quarter within minutes, and a ratio of two runs
        # made a few minutes apart measured the drift as much as the servers.
        with contextlib.ExitStack() as running:
            started = {key: running.enter_context(server.start(args.workers, args.threads))
                       for key, server in servers.items()} if paths or "deep" in wanted else {}
            for scenario, scenario_list in paths.items():
                for key, (base, _process) in started.items():
                    counts.setdefault(scenario, {})[key] = [
                        feature_count(base + servers[key].prefix + path)
                        for path in servers[key].paths(scenario_list[:SAMPLED_PATHS])]
            for scenario, scenario_list in paths.items():
                for key, (base, process) in started.items():
                    results.setdefault(scenario, {})[key] = run_wrk(
                        base, servers[key].prefix, servers[key].paths(scenario_list),
                        args.clients, args.duration, workdir)
                    # What wrk left in flight finishes before the next run.
                    wait_idle(process, bench.url)
            if "deep" in wanted:
                for key, (base, _process) in started.items():
                    deep[key] = deep_pages(base, servers[key], bench.zones, args.next_pages)
        for key, server in servers.items():
            if "bigpage" in wanted:
                with server.start(1, 1) as (base, process):
                    memory[key] = big_page_memory(base, server.prefix, process,
                                                  server.collection, server.extra)

    keys = list(servers)
    names = {key: servers[key].name for key in keys}
    others = [key for key in keys if key != "FloodManager"] if "FloodManager" in keys else []
    if results:
        print(f"\n{bench.zones} zones; {args.workers} workers x {args.threads} threads "
              f"each (FloodManager: Granian, pygeoapi: gunicorn, tipg: uvicorn, {args.workers} "
              f"workers), wrk {args.clients} connections, "
              f"{args.duration} s per run")
        header = "".join(f"{names[k] + ' req/s':>22}{'p50 ms':>9}{'p99 ms':>9}" for k in keys)
        ratios = "".join(f"{'vs ' + k:>12}" for k in others)
        print(f"{'scenario':24}{header}{ratios}")
        for scenario, by_server in results.items():
            cells = "".join(f"{by_server[k]['rate']:>22.1f}{by_server[k]['p50']:>9.1f}"
                            f"{by_server[k]['p99']:>9.1f}" for k in keys)
            ratio = "".join(
                f"{by_server['FloodManager']['rate'] / by_server[k]['rate']:>11.1f}x"
                if by_server[k]["rate"] > 0 else f"{'-':>12}" for k in others)
            errors = {k: by_server[k]["non_2xx"] + by_server[k]["socket_errors"] for k in keys
                      if by_server[k]["non_2xx"] or by_server[k]["socket_errors"]}
            few = {k: by_server[k]["requests"] for k in keys
                   if by_server[k]["requests"] < FEW_REQUESTS}
            print(f"{SCENARIOS[scenario]:24}{cells}{ratio}"
                  + (f"  non-2xx or socket errors: {errors}" if errors else "")
                  + (f"  only {few} requests completed: use a longer --duration" if few else ""))
        differing = {scenario: by_server for scenario, by_server in counts.items()
                     if len({tuple(c) for c in by_server.values()}) > 1}
        sampled = f"features returned for the first {SAMPLED_PATHS} paths of each scenario"
        if not differing:
            print(f"{sampled}: the same on every server")
        else:
            print(f"{sampled} DIFFER:")
            for scenario, by_server in differing.items():
                print(f"  {SCENARIOS[scenario]:24}"
                      + "  ".join(f"{k} {'/'.join(c)}" for k, c in by_server.items()))
    if deep:
        sample = next(iter(deep.values()))
        offsets = sample["offsets"]
        print(f"\ndeep pages, one client, items?limit={PAGE} (ms until the whole page has "
              f"arrived; offsets: median of {DEEP_RUNS}; next: {args.next_pages} pages "
              "following each server's next links from the first page)")
        print(f"{'server':20}{'offset 0':>10}{'off ' + format(offsets['deep'], ','):>12}"
              f"{'off ' + format(offsets['last'], ','):>12}{'next mean':>11}{'next last':>11}"
              f"{'deep/first':>12}{'end/first':>11}{'next last/first':>17}  next link")
        for key in keys:
            d = deep[key]
            ms = d["ms"]
            first = max(ms["first"], 1e-9)
            line = (f"{names[key]:20}{ms['first']:>10.1f}{ms['deep']:>12.1f}{ms['last']:>12.1f}"
                    f"{d['mean_ms']:>11.1f}{d['last_ms']:>11.1f}{ms['deep'] / first:>11.1f}x"
                    f"{ms['last'] / first:>10.1f}x{d['last_ms'] / first:>16.1f}x  {d['kind']}, "
                    f"{d['pages']} pages, {d['features']} features ({d['distinct']} distinct ids)")
            if d["dropped"]:
                line += f"; the next links dropped {','.join(d['dropped'])}"
            print(line)
    if memory:
        print("\nitems?limit=10000, one worker (1 thread), 3 pages:")
        for key in keys:
            m = memory[key]
            print(f"  {names[key]:20} {m['seconds_per_page']:.2f} s and {m['mib_per_page']:.1f} "
                  f"MiB per page; worker peak RSS {m['idle_mib']:.0f} MiB idle -> "
                  f"{m['peak_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
