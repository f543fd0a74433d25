"""Zone ids with their dataset in one index, for pages in id order by index-only scans.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:45:00
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_flood_zones_id_dataset_id", "flood_zones", ["id"],
                    postgresql_include=["dataset_id"])


def downgrade() -> None:
    op.drop_index("ix_flood_zones_id_dataset_id", table_name="flood_zones")
