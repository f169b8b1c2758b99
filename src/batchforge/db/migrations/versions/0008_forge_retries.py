"""forge retries: attempts, back-off and a final failed state

A rollback of a failed create that was still pending was stored as operation "delete" on an
ERRORED environment; it becomes operation "rollback" (a deletion the user asked for stays
"delete", on a DELETING environment).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from batchforge.db.models.base import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("compute_env", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("forge_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("forge_next_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("forge_failed", sa.String(length=16), nullable=True))
    env = sa.table("compute_env", sa.column("operation", sa.String), sa.column("status", sa.String))
    op.execute(
        env.update()
        .where(env.c.operation == "delete", env.c.status == "ERRORED")
        .values(operation="rollback")
    )


def downgrade() -> None:
    env = sa.table("compute_env", sa.column("operation", sa.String))
    op.execute(env.update().where(env.c.operation == "rollback").values(operation="delete"))
    with op.batch_alter_table("compute_env", schema=None) as batch_op:
        batch_op.drop_column("forge_failed")
        batch_op.drop_column("forge_next_at")
        batch_op.drop_column("forge_attempts")
