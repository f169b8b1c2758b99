"""pipeline versions: each pipeline's launch configurations, one of them the default

- ``pipeline_version``: a version's name, the hash of its versionable launch fields, its
  launch, whether it is the pipeline's default;
- every existing pipeline gets its default version ``<pipeline name>-1`` holding its launch.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

import json

import sqlalchemy as sa
from alembic import op

from batchforge.db.models.base import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_version",
        sa.Column("id", sa.String(length=22), nullable=False),
        sa.Column(
            "pipeline_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("hash", sa.String(length=128), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("launch", sa.JSON(), nullable=False),
        sa.Column("creator_user_name", sa.String(length=100), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipeline.id"],
            name=op.f("fk_pipeline_version_pipeline_id_pipeline"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_version")),
    )
    op.create_index(op.f("ix_pipeline_version_pipeline_id"), "pipeline_version", ["pipeline_id"])
    op.create_index(
        "uq_pipeline_version_name", "pipeline_version", ["pipeline_id", "name"], unique=True
    )
    _default_versions()


def _default_versions() -> None:
    """Each pipeline's launch becomes its default version (hash as the service computes)."""
    from batchforge.services.ids import new_id
    from batchforge.services.pipeline_versions import launch_hash

    conn = op.get_bind()
    pipeline = sa.table(
        "pipeline",
        sa.column("id"),
        sa.column("name"),
        sa.column("launch"),
        sa.column("user_name"),
        sa.column("created_at", UtcDateTime()),
        sa.column("updated_at", UtcDateTime()),
    )
    version = sa.table(
        "pipeline_version",
        sa.column("id"),
        sa.column("pipeline_id"),
        sa.column("name"),
        sa.column("hash"),
        sa.column("is_default"),
        sa.column("launch", sa.JSON()),
        sa.column("creator_user_name"),
        sa.column("created_at", UtcDateTime()),
        sa.column("updated_at", UtcDateTime()),
    )
    rows = [
        {
            "id": new_id(),
            "pipeline_id": row.id,
            "name": f"{row.name}-1",
            "hash": launch_hash(_launch(row.launch)),
            "is_default": True,
            "launch": _launch(row.launch),
            "creator_user_name": row.user_name,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
        for row in conn.execute(sa.select(pipeline))
    ]
    if rows:
        op.bulk_insert(version, rows)


def _launch(stored: object) -> dict[str, object]:
    """A pipeline's stored launch; an unreadable one counts as empty (the pipeline is shown
    as broken anyway)."""
    if isinstance(stored, str):
        try:
            stored = json.loads(stored)
        except ValueError:
            return {}
    return stored if isinstance(stored, dict) else {}


def downgrade() -> None:
    op.drop_index("uq_pipeline_version_name", table_name="pipeline_version")
    op.drop_index(op.f("ix_pipeline_version_pipeline_id"), table_name="pipeline_version")
    op.drop_table("pipeline_version")
