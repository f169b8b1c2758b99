"""custom roles: an organization's own workspace roles (Seqera's custom roles)

- ``custom_role``: per organization, a unique name, a description and its permissions (a
  JSON list of ``authz.Permission`` names);
- ``workspace_participant.role`` widens to 40 characters: it holds a predefined role or the
  name of a custom role of the workspace's organization.

Downgrade: participants holding a custom role go (the older schema knows only the six
predefined roles, and giving them one could grant more than they had), then the table.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from batchforge.db.models.base import UtcDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_PREDEFINED = ("owner", "admin", "maintain", "launch", "connect", "view")


def upgrade() -> None:
    op.create_table(
        "custom_role",
        sa.Column("id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=120), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_custom_role_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_role")),
        sa.UniqueConstraint("org_id", "name", name="uq_custom_role_org_name"),
    )
    with op.batch_alter_table("workspace_participant", schema=None) as batch_op:
        batch_op.alter_column(
            "role",
            existing_type=sa.String(length=16),
            type_=sa.String(length=40),
            existing_nullable=False,
        )


def downgrade() -> None:
    participant = sa.table("workspace_participant", sa.column("role", sa.String))
    op.execute(participant.delete().where(participant.c.role.not_in(_PREDEFINED)))
    with op.batch_alter_table("workspace_participant", schema=None) as batch_op:
        batch_op.alter_column(
            "role",
            existing_type=sa.String(length=40),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
    op.drop_table("custom_role")
