"""teams: organization members, teams, workspace participants, users' state

- ``org_member``: a user in an organization (``owner`` | ``member``);
- ``team``, ``team_member``: an organization's teams of members;
- ``workspace_participant`` replaces ``workspace_member``: a member or a team, with a role;
- ``user_account``: ``is_admin`` (the system administrator) and ``disabled``.

Data: every workspace member becomes a member of the workspace's organization (its ``owner``
when it owned every workspace of that organization, so no one gains access) and a direct
participant with the same role; the first user (the bootstrap admin) is the system admin.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from batchforge.db.models.base import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column(
        "user_account",
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "user_account",
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "org_member",
        sa.Column("id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_org_member_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_org_member_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_member")),
        sa.UniqueConstraint("org_id", "user_id", name="uq_org_member_org_user"),
    )
    op.create_index(op.f("ix_org_member_user_id"), "org_member", ["user_id"], unique=False)
    op.create_table(
        "team",
        sa.Column("id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=250), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organization.id"],
            name=op.f("fk_team_org_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("org_id", "name", name="uq_team_org_name"),
    )
    op.create_table(
        "team_member",
        sa.Column("team_id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["org_member.id"],
            name=op.f("fk_team_member_member_id_org_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_team_member_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "member_id", name=op.f("pk_team_member")),
    )
    op.create_index(op.f("ix_team_member_member_id"), "team_member", ["member_id"], unique=False)
    op.create_table(
        "workspace_participant",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=True),
        sa.Column("team_id", _ID, nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "(member_id IS NULL) <> (team_id IS NULL)",
            name=op.f("ck_workspace_participant_member_or_team"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["org_member.id"],
            name=op.f("fk_workspace_participant_member_id_org_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
            name=op.f("fk_workspace_participant_team_id_team"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_workspace_participant_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_participant")),
        sa.UniqueConstraint("workspace_id", "member_id", name="uq_workspace_participant_member"),
        sa.UniqueConstraint("workspace_id", "team_id", name="uq_workspace_participant_team"),
    )
    for column in ("member_id", "team_id", "workspace_id"):
        op.create_index(
            op.f(f"ix_workspace_participant_{column}"),
            "workspace_participant",
            [column],
            unique=False,
        )
    _move_members_to_participants()
    op.drop_index(op.f("ix_workspace_member_user_id"), table_name="workspace_member")
    op.drop_table("workspace_member")


def _move_members_to_participants() -> None:
    op.execute(
        "INSERT INTO org_member (org_id, user_id, role) "
        "SELECT w.org_id, m.user_id, "
        "CASE WHEN SUM(CASE WHEN m.role = 'owner' THEN 1 ELSE 0 END) = "
        "(SELECT COUNT(*) FROM workspace w2 WHERE w2.org_id = w.org_id) "
        "THEN 'owner' ELSE 'member' END "
        "FROM workspace_member m JOIN workspace w ON w.id = m.workspace_id "
        "GROUP BY w.org_id, m.user_id"
    )
    op.execute(
        "INSERT INTO workspace_participant (workspace_id, member_id, role) "
        "SELECT m.workspace_id, om.id, m.role FROM workspace_member m "
        "JOIN workspace w ON w.id = m.workspace_id "
        "JOIN org_member om ON om.org_id = w.org_id AND om.user_id = m.user_id"
    )
    op.execute(
        sa.text(
            "UPDATE user_account SET is_admin = :yes WHERE id = (SELECT MIN(id) FROM user_account)"
        ).bindparams(yes=True)
    )


def downgrade() -> None:
    op.create_table(
        "workspace_member",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_workspace_member_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_workspace_member_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "user_id", name=op.f("pk_workspace_member")),
    )
    op.create_index(
        op.f("ix_workspace_member_user_id"), "workspace_member", ["user_id"], unique=False
    )
    # Direct participants keep their role; team roles and org ownership have no older form.
    op.execute(
        "INSERT INTO workspace_member (workspace_id, user_id, role) "
        "SELECT p.workspace_id, om.user_id, p.role FROM workspace_participant p "
        "JOIN org_member om ON om.id = p.member_id"
    )
    for column in ("workspace_id", "team_id", "member_id"):
        op.drop_index(
            op.f(f"ix_workspace_participant_{column}"), table_name="workspace_participant"
        )
    op.drop_table("workspace_participant")
    op.drop_index(op.f("ix_team_member_member_id"), table_name="team_member")
    op.drop_table("team_member")
    op.drop_table("team")
    op.drop_index(op.f("ix_org_member_user_id"), table_name="org_member")
    op.drop_table("org_member")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("disabled")
        batch_op.drop_column("is_admin")
