"""runs record the cleanup of their task jobs (tasks_state, tasks_at)

Runs that ended before this revision are marked "cleaned": the tracker does not list the
task jobs of every historical run on its first cycle.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from batchforge.db.models.base import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tasks_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("tasks_at", UtcDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_run_tasks_state"), ["tasks_state"], unique=False)
    run = sa.table("run", sa.column("active", sa.Boolean), sa.column("tasks_state", sa.String))
    op.execute(run.update().where(run.c.active.is_(False)).values(tasks_state="cleaned"))


def downgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_tasks_state"))
        batch_op.drop_column("tasks_at")
        batch_op.drop_column("tasks_state")
