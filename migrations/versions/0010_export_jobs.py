"""Exports written by the worker, with their files' lifetimes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("data_version", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="queued", nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=255), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'ready', 'failed', 'expired')",
                           name=op.f("ck_export_jobs_status")),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE",
                                name=op.f("fk_export_jobs_dataset_id_datasets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
    )
    op.create_index(op.f("ix_export_jobs_dataset_id"), "export_jobs", ["dataset_id"])
    # One live export per cache key, so that parallel requests share one job.
    op.create_index("uq_export_jobs_live_key", "export_jobs",
                    ["dataset_id", "format", "data_version"], unique=True,
                    postgresql_where=sa.text("status IN ('queued', 'running', 'ready')"))


def downgrade() -> None:
    op.drop_index("uq_export_jobs_live_key", table_name="export_jobs")
    op.drop_index(op.f("ix_export_jobs_dataset_id"), table_name="export_jobs")
    op.drop_table("export_jobs")
