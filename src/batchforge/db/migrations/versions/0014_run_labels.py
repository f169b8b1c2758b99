"""run labels: which labels each run carries

- ``run_label`` (run_id, label_id): a run's labels, changed by ``/workflow/labels/*``;
- every existing run gets the labels of its launch (``run.launch.labelIds``) that still
  exist in its workspace.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_label",
        sa.Column("run_id", sa.String(length=22), nullable=False),
        sa.Column("label_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["label_id"],
            ["label.id"],
            name=op.f("fk_run_label_label_id_label"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_run_label_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "label_id", name=op.f("pk_run_label")),
    )
    op.create_index(op.f("ix_run_label_label_id"), "run_label", ["label_id"])
    _launch_labels()


def _launch_labels() -> None:
    """Each run carries the labels it was launched with (those still in its workspace)."""
    conn = op.get_bind()
    run = sa.table("run", sa.column("id"), sa.column("workspace_id"), sa.column("launch"))
    label = sa.table("label", sa.column("id"), sa.column("workspace_id"))
    run_label = sa.table("run_label", sa.column("run_id"), sa.column("label_id"))
    labels_of = {row.id: row.workspace_id for row in conn.execute(sa.select(label))}
    rows = []
    for row in conn.execute(sa.select(run)):
        wanted = _label_ids(row.launch)
        rows.extend(
            {"run_id": row.id, "label_id": label_id}
            for label_id in wanted
            if labels_of.get(label_id) == row.workspace_id
        )
    if rows:
        op.bulk_insert(run_label, rows)


def _label_ids(stored: object) -> list[int]:
    """The ``labelIds`` of a run's stored launch, without repeats; an unreadable launch has
    none (the run is shown as broken anyway)."""
    if isinstance(stored, str):
        try:
            stored = json.loads(stored)
        except ValueError:
            return []
    found = stored.get("labelIds") if isinstance(stored, dict) else None
    if not isinstance(found, list):
        return []
    return list(dict.fromkeys(i for i in found if isinstance(i, int) and not isinstance(i, bool)))


def downgrade() -> None:
    op.drop_index(op.f("ix_run_label_label_id"), table_name="run_label")
    op.drop_table("run_label")
