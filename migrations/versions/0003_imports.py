"""Imports: progress and report of a dataset's import; the procrastinate job queue's schema.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 17:20:00
"""

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# procrastinate's objects all start with this prefix; the downgrade drops them by it.
DROP_QUEUE = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$
DECLARE f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
             WHERE p.proname LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP FUNCTION ' || f.signature || ' CASCADE';
    END LOOP;
END $$;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_status,
    procrastinate_job_event_type CASCADE;
"""


def run_raw(sql: str) -> None:
    """Run SQL on the migration's own DBAPI connection, with no parameter interpolation."""
    with op.get_bind().connection.dbapi_connection.cursor() as cursor:
        cursor.execute(sql)


def upgrade():
    op.add_column("datasets", sa.Column("progress", sa.Float(), nullable=True))
    op.add_column(
        "datasets",
        sa.Column("import_report", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column("datasets", sa.Column("error", sa.Text(), nullable=True))
    # The job queue's tables and functions, as the pinned procrastinate release defines them;
    # passed to the driver as is (the SQL holds % and : that must not be read as parameters).
    run_raw(SchemaManager.get_schema())


def downgrade():
    run_raw(DROP_QUEUE)
    op.drop_column("datasets", "error")
    op.drop_column("datasets", "import_report")
    op.drop_column("datasets", "progress")
