"""The audit log: who changed what, when and from where.

(Reserved slot; filled in by the change that needs it.)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 07:00:00
"""

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
