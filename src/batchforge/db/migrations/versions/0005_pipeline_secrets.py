"""pipeline secrets, and the per-run Secrets Manager copies recorded on runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from batchforge.db.models.base import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pipeline_secret",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=True),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("last_used", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "(workspace_id IS NULL) <> (user_id IS NULL)",
            name=op.f("ck_pipeline_secret_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_pipeline_secret_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_pipeline_secret_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_secret")),
        sa.UniqueConstraint("workspace_id", "name", name="uq_pipeline_secret_ws_name"),
        sa.UniqueConstraint("user_id", "name", name="uq_pipeline_secret_user_name"),
    )
    with op.batch_alter_table("pipeline_secret", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pipeline_secret_workspace_id"), ["workspace_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pipeline_secret_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_names", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("secrets_state", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_run_secrets_state"), ["secrets_state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_secrets_state"))
        batch_op.drop_column("secrets_state")
        batch_op.drop_column("secret_names")
    op.drop_table("pipeline_secret")
