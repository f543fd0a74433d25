"""Features requests against their SQL limit: FloodManager over HTTP vs the same statements
under pgbench, on one map.

For the first items page (`items?limit=100`) and single features (`items/{id}`, random ids),
the pgbench transaction is every statement the app sends for that request, in its order,
built by the app's own builders with the values written in:

- first page: the data version (ETag) and the page's SELECT (with its window count when the
  app would count); the planner's row estimate (EXPLAIN) that decides whether to count is
  made once per data version for an unfiltered page, so it is not part of the request;
- single feature: the feature's SELECT, which reads the data version too (`\\set id` over the
  served ids; an id that is missing answers no row, which only makes the SQL side faster).

FloodManager runs as shipped (`flask serve`, Granian, 2 workers x 4 threads) with wrk;
pgbench gets as many clients as wrk has connections, on the same 2 cores.

    .venv/bin/python bench/bench_sql_limit.py [--database floodmanager_bench_cli]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_features import PAGE, run_wrk  # noqa: E402
from bench_lookup import run_pgbench  # noqa: E402
from common import BENCH_DB, BENCH_SECRET_KEY, bench_map, floodmanager  # noqa: E402

from geoapp.config import build_config  # noqa: E402
from geoapp.db.models import FloodZone  # noqa: E402
from geoapp.db.queries import features as features_sql  # noqa: E402
from geoapp.ogc import features  # noqa: E402
from geoapp.web.contract.queries import ItemsQueryModel  # noqa: E402

ID_MARK = 987654321


def literal(statement) -> str:
    """A statement's SQL with its values written in, on one line."""
    sql = str(statement.compile(dialect=postgresql.dialect(),
                                compile_kwargs={"literal_binds": True}))
    return " ".join(sql.split())


def scripts(url: str) -> tuple[dict[str, str], tuple[int, int]]:
    """The pgbench scripts of both requests, and the range of served ids."""
    with tempfile.TemporaryDirectory() as instance:
        config = build_config(instance, {"DATABASE_URL": url, "SECRET_KEY": BENCH_SECRET_KEY})
    engine = sa.create_engine(config["SQLALCHEMY_DATABASE_URI"])
    query = ItemsQueryModel.read({"limit": str(PAGE)}, config).to_query(config)
    with Session(engine) as session:
        # The app's own decision whether the page counts its rows (a window count).
        items = features.items_page(session, query, config["GEOAPP_EXACT_COUNT_LIMIT"])
        low, high = session.execute(sa.select(sa.func.min(FloodZone.id),
                                              sa.func.max(FloodZone.id))).one()
    engine.dispose()
    page = [literal(features_sql.data_version()),
            literal(features.items_statement(query, items.counts_matched, items.conditions()))]
    if not features.only_scope(query):
        # Unfiltered pages reuse the estimate of their data version (features.items_page).
        page.insert(1, "EXPLAIN (FORMAT JSON) "
                    + literal(features_sql.zone_count(items.conditions())))
    one = features.one_item_statement(features.OutputOptions.of(query))
    item_sql = literal(one.params({features_sql.ZONE_ID: ID_MARK})).replace(str(ID_MARK), ":id")
    # The data version comes with the feature, in its statement.
    item = [f"\\set id random({low}, {high})", item_sql]
    return {"items?limit=100": "".join(f"{line};\n" if not line.startswith("\\") else
                                       f"{line}\n" for line in page),
            "items/{id}": "".join(f"{line};\n" if not line.startswith("\\") else f"{line}\n"
                                  for line in item)}, (low, high)


def main() -> None:
    """HTTP and SQL rates of both requests, side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=BENCH_DB)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()

    bench = bench_map(args.database)
    sql_scripts, (low, high) = scripts(bench.url)
    engine = sa.create_engine(bench.url)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT setseed(0.42)"))
        ids = conn.scalars(sa.text("SELECT id FROM flood_zones ORDER BY random() LIMIT 2000")
                           ).all()
    engine.dispose()
    paths = {"items?limit=100": [f"/collections/flood_zones/items?limit={PAGE}"],
             "items/{id}": [f"/collections/flood_zones/items/{i}" for i in ids]}
    http = {}
    with tempfile.TemporaryDirectory() as tmp, floodmanager(bench.url) as (base, _process):
        for name, listing in paths.items():
            http[name] = run_wrk(base, "/api", listing, args.clients, args.duration, Path(tmp))
    url = sa.engine.make_url(bench.url)
    print(f"\n{bench.database}: {bench.zones} zones; Granian 2 x 4, wrk and pgbench "
          f"{args.clients} clients, {args.duration} s each")
    # As text (-M simple: parsed and planned every time) and prepared (-M prepared: these
    # scripts have their values written in, so each statement is planned once).
    print(f"{'request':18}{'HTTP req/s':>12}{'p50 ms':>9}{'SQL tps':>10}{'p50 ms':>9}"
          f"{'HTTP / SQL':>12}{'prepared tps':>14}{'HTTP / prep.':>14}")
    for name, script in sql_scripts.items():
        sql = run_pgbench(url, script, args.clients, args.duration)
        prepared = run_pgbench(url, script, args.clients, args.duration, "prepared")
        h = http[name]
        print(f"{name:18}{h['rate']:>12.1f}{h['p50']:>9.1f}{sql['rate']:>10.1f}"
              f"{sql['p50']:>9.1f}{h['rate'] / sql['rate']:>11.0%}{prepared['rate']:>14.1f}"
              f"{h['rate'] / prepared['rate']:>13.0%}"
              + (f"  non-2xx: {h['non_2xx']}" if h["non_2xx"] else ""))
    print(f"(pgbench ids drawn from {low}..{high})")


if __name__ == "__main__":
    main()
