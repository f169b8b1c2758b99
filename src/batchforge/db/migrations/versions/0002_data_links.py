"""data links

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from batchforge.db.models.base import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "data_link",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("custom_name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("bucket", sa.String(length=63), nullable=False),
        sa.Column("prefix", sa.String(length=1024), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("extras", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_data_link_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_link")),
        sa.UniqueConstraint("workspace_id", "custom_name", name="uq_data_link_ws_custom_name"),
    )
    op.create_index(op.f("ix_data_link_workspace_id"), "data_link", ["workspace_id"])
    op.create_table(
        "data_link_credentials",
        sa.Column("data_link_id", sa.String(length=40), nullable=False),
        sa.Column("credentials_id", sa.String(length=22), nullable=False),
        sa.ForeignKeyConstraint(
            ["credentials_id"],
            ["credentials.id"],
            name=op.f("fk_data_link_credentials_credentials_id_credentials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["data_link_id"],
            ["data_link.id"],
            name=op.f("fk_data_link_credentials_data_link_id_data_link"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "data_link_id", "credentials_id", name=op.f("pk_data_link_credentials")
        ),
    )
    op.create_index(
        op.f("ix_data_link_credentials_credentials_id"), "data_link_credentials", ["credentials_id"]
    )
    op.create_table(
        "data_link_discovery",
        sa.Column("credentials_id", sa.String(length=22), nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("refreshed_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("buckets", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credentials_id"],
            ["credentials.id"],
            name=op.f("fk_data_link_discovery_credentials_id_credentials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_data_link_discovery_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("credentials_id", name=op.f("pk_data_link_discovery")),
    )
    op.create_index(
        op.f("ix_data_link_discovery_workspace_id"), "data_link_discovery", ["workspace_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_data_link_discovery_workspace_id"), table_name="data_link_discovery")
    op.drop_table("data_link_discovery")
    op.drop_index(
        op.f("ix_data_link_credentials_credentials_id"), table_name="data_link_credentials"
    )
    op.drop_table("data_link_credentials")
    op.drop_index(op.f("ix_data_link_workspace_id"), table_name="data_link")
    op.drop_table("data_link")
