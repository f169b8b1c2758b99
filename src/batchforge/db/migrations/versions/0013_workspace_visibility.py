"""workspace visibility: PRIVATE or SHARED (Seqera's ``Workspace.visibility``)

Every existing workspace stays ``PRIVATE`` (the column's server default), so nothing that was
private becomes visible.  Organization collaborators need no schema change: they are
``org_member`` rows with the role ``collaborator``.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("visibility", sa.String(length=16), server_default="PRIVATE", nullable=False)
        )


def downgrade() -> None:
    """Collaborators have no place in the older schema's meaning: they go, with their
    participations, so that no one keeps access as a 'member'."""
    member = sa.table("org_member", sa.column("id", sa.Integer), sa.column("role", sa.String))
    participant = sa.table("workspace_participant", sa.column("member_id", sa.Integer))
    collaborators = sa.select(member.c.id).where(member.c.role == "collaborator")
    op.execute(participant.delete().where(participant.c.member_id.in_(collaborators)))
    op.execute(member.delete().where(member.c.role == "collaborator"))
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.drop_column("visibility")
