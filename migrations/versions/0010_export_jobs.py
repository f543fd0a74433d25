"""Exports written by the worker, with their files' lifetimes.

(Reserved slot; filled in by the change that needs it.)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:00:00
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
