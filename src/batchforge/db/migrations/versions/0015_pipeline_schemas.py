"""pipeline schemas: a workspace's saved JSON Schema documents

- ``pipeline_schema`` (id, workspace_id, content, creator_user_name, created_at): created by
  ``POST /pipeline-schemas``, referred to by a launch's ``pipelineSchemaId`` (kept in the
  launch JSON, so no other table changes).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from batchforge.db.models.base import UtcDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_schema",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("creator_user_name", sa.String(length=100), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_pipeline_schema_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_schema")),
    )
    op.create_index(op.f("ix_pipeline_schema_workspace_id"), "pipeline_schema", ["workspace_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pipeline_schema_workspace_id"), table_name="pipeline_schema")
    op.drop_table("pipeline_schema")
