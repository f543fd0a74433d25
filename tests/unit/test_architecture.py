"""The house rules that can be checked by reading the code: SQL is written only in geoapp/db.

The checker walks the syntax tree of every module of ``geoapp`` outside ``geoapp/db`` and
reports each place that builds SQL itself: SQLAlchemy's statement builders and ``func``
imported or reached through a module alias or Flask-SQLAlchemy's ``db``, the legacy
``session.query(...)``, and SQL text handed to a driver (``cursor.execute("SELECT ...")``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "geoapp"
# Where SQL may be written: the models, the queries package, the rate-limit storage.
SQL_HOME = PACKAGE / "db"

FORBIDDEN = frozenset({"select", "update", "delete", "insert", "text", "func"})
# Modules whose FORBIDDEN names are SQL builders (sqlalchemy.dialects.postgresql.insert too).
SQLALCHEMY_PREFIX = "sqlalchemy"
# Flask-SQLAlchemy's extension object re-exports SQLAlchemy's builders (db.select, db.func).
FLASK_SQLALCHEMY_NAMES = frozenset({"db"})
# Methods that send text to the database: a literal argument is SQL written here.
RAW_SQL_METHODS = frozenset({"execute", "executemany", "exec_driver_sql", "copy_expert"})
# A string constant that reads as a statement (upper-case keyword first, as SQL is written here).
SQL_STATEMENT = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|COPY|WITH|SET|CREATE|ALTER|DROP)\s")

# (path relative to geoapp/, name): why this module may use it. Keep it short and honest.
ALLOWED: dict[tuple[str, str], str] = {
    ("nfhl/status.py", "func"): (
        "the zone-status rule is written once beside its Python twin, as the column expression "
        "of the generated column flood_zones.risk_status (DDL, not a statement); "
        "tests/db/test_risk_sql.py proves the two agree"
    ),
}


@dataclass(frozen=True)
class Finding:
    """One place where a module builds SQL itself."""

    line: int
    name: str
    what: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


def _is_sqlalchemy(module: str | None) -> bool:
    return module is not None and (
        module == SQLALCHEMY_PREFIX or module.startswith(SQLALCHEMY_PREFIX + ".")
    )


def _is_sql_text(node: ast.expr) -> bool:
    """A string literal or f-string: SQL spelled out in this module."""
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def sql_findings(source: str) -> list[Finding]:
    """Every place in a module's source that writes SQL instead of calling geoapp.db.queries."""
    tree = ast.parse(source)
    findings: list[Finding] = []
    module_aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_sqlalchemy(alias.name):
                    # `import sqlalchemy.sql` binds `sqlalchemy`; `as sa` binds `sa`.
                    module_aliases.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and _is_sqlalchemy(node.module):
            for alias in node.names:
                if alias.name in FORBIDDEN:
                    findings.append(Finding(node.lineno, alias.name,
                                            f"imports {alias.name} from {node.module}"))
                elif alias.name in ("sql", "expression"):
                    module_aliases.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN:
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            through_module = isinstance(base, ast.Name) and base.id in module_aliases
            # Only db.select and the like: db.session.delete(obj) is the ORM's, and fine.
            through_db = (isinstance(node.value, ast.Name)
                          and node.value.id in FLASK_SQLALCHEMY_NAMES)
            if through_module or through_db:
                findings.append(Finding(node.lineno, node.attr,
                                        f"uses {ast.unparse(node)}"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, receiver = node.func.attr, node.func.value
            receiver_name = (receiver.attr if isinstance(receiver, ast.Attribute)
                             else getattr(receiver, "id", ""))
            if method == "query" and receiver_name.endswith("session"):
                findings.append(Finding(node.lineno, "query",
                                        f"builds a legacy query with {receiver_name}.query()"))
            elif method in RAW_SQL_METHODS and node.args and _is_sql_text(node.args[0]):
                findings.append(Finding(node.lineno, "sql text",
                                        f"sends SQL text to {method}()"))
        elif (isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Constant)
              and isinstance(node.value.value, str) and SQL_STATEMENT.match(node.value.value)):
            findings.append(Finding(node.lineno, "sql text", "keeps a SQL statement as a constant"))
    return sorted(findings, key=lambda finding: finding.line)


def modules_outside_db() -> list[Path]:
    """Every module of the package that is not under geoapp/db."""
    return sorted(path for path in PACKAGE.rglob("*.py") if SQL_HOME not in path.parents)


def test_no_module_outside_db_writes_sql() -> None:
    offenders = []
    for path in modules_outside_db():
        relative = path.relative_to(PACKAGE).as_posix()
        for finding in sql_findings(path.read_text(encoding="utf-8")):
            if (relative, finding.name) not in ALLOWED:
                offenders.append(f"geoapp/{relative} {finding}")
    assert not offenders, (
        "SQL belongs in geoapp/db/queries/ (a statement builder there, called from here):\n"
        + "\n".join(offenders)
    )


def test_the_walk_reads_the_whole_package() -> None:
    modules = {path.relative_to(PACKAGE).as_posix() for path in modules_outside_db()}
    assert {"ingest/pipeline/load.py", "web/api/features.py", "users/accounts.py"} <= modules
    assert not any(module.startswith("db/") for module in modules)


@pytest.mark.parametrize(("relative", "name"), sorted(ALLOWED))
def test_every_allowance_is_still_needed(relative: str, name: str) -> None:
    found = {finding.name for finding in sql_findings((PACKAGE / relative).read_text())}
    assert name in found, f"geoapp/{relative} no longer uses {name}: drop it from ALLOWED"


def test_queries_package_only_documents_itself() -> None:
    tree = ast.parse((SQL_HOME / "queries" / "__init__.py").read_text())
    assert len(tree.body) == 1
    assert isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant)


PLANTED = {
    "imported builder": ("from sqlalchemy import select\n"
                         "rows = session.execute(select(Zone))\n", {(1, "select")}),
    "aliased postgres insert": ("from sqlalchemy.dialects.postgresql import insert as upsert\n",
                                {(1, "insert")}),
    "module alias": ("import sqlalchemy as sa\n"
                     "n = session.scalar(sa.select(sa.func.count()))\n",
                     {(2, "select"), (2, "func")}),
    "submodule import": ("import sqlalchemy.sql\nq = sqlalchemy.sql.text('x')\n", {(2, "text")}),
    "sql namespace": ("from sqlalchemy import sql\nq = sql.text('SELECT 1')\n", {(2, "text")}),
    "flask-sqlalchemy": ("from geoapp.extensions import db\n"
                         "db.session.execute(db.text('SELECT 1'))\n", {(2, "text")}),
    "sql constant": ('ALLOCATE = ("SELECT nextval(%s) "\n'
                     '            "FROM generate_series(1, %s)")\n'
                     'LABEL = "Select a file"\n', {(1, "sql text")}),
    "legacy query": ("zones = db.session.query(Zone).all()\n", {(1, "query")}),
    "driver text": ('cursor.execute("SELECT 1")\ncursor.copy_expert(f"COPY {t} FROM STDIN", f)\n',
                    {(1, "sql text"), (2, "sql text")}),
}


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_the_checker_catches_planted_sql(case: str) -> None:
    source, expected = PLANTED[case]
    found = {(finding.line, finding.name) for finding in sql_findings(source)}
    assert found == expected


def test_the_checker_fails_on_a_planted_module() -> None:
    """The guard itself turns red when a module outside db writes a statement."""
    planted = ("from sqlalchemy import func, select\n"
               "def count(session):\n"
               "    return session.scalar(select(func.count()).select_from(Zone))\n")
    findings = sql_findings(planted)
    assert [str(finding) for finding in findings] == [
        "line 1: imports func from sqlalchemy", "line 1: imports select from sqlalchemy"]


def test_the_checker_passes_calls_into_queries() -> None:
    clean = ("from sqlalchemy.orm import Session\n"
             "from geoapp.db.queries import lookup as lookup_sql\n"
             "def zones(session: Session):\n"
             "    session.delete(zone)\n"
             "    db.session.delete(zone)\n"
             "    cursor.execute(imports_sql.ZONE_STATUSES, (ids,))\n"
             "    return session.execute(lookup_sql.zones_covering_point()).all()\n")
    assert sql_findings(clean) == []
