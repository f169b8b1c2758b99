"""run trace: tasks, progress, metrics, run tokens; runs launched elsewhere

- ``run_token``: per-run tokens (SHA-256 only) for the head job's nf-tower plugin;
- ``run_task``, ``run_process``, ``run_trace``: what the plugin reports (see
  ``batchforge/db/models/trace.py``);
- ``run``: ``compute_env_id`` becomes nullable (a run launched elsewhere with
  ``-with-tower`` has none), plus ``origin``, ``trace_state``, ``trace_at``,
  ``trace_workflow``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from batchforge.db.models.base import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.alter_column("compute_env_id", existing_type=sa.String(length=22), nullable=True)
        batch_op.add_column(
            sa.Column("origin", sa.String(length=16), server_default="launch", nullable=False)
        )
        batch_op.add_column(sa.Column("trace_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("trace_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("trace_workflow", sa.JSON(), nullable=True))
    op.create_table(
        "run_token",
        sa.Column("run_id", sa.String(length=22), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_run_token_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_token")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_run_token_token_sha256")),
    )
    op.create_table(
        "run_task",
        sa.Column("run_id", sa.String(length=22), nullable=False),
        sa.Column("task_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("instant", sa.BigInteger(), nullable=False),
        sa.Column("process", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("tag", sa.String(length=255), nullable=True),
        sa.Column("hash", sa.String(length=34), nullable=True),
        sa.Column("native_id", sa.String(length=100), nullable=True),
        sa.Column("exit", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("cpus", sa.Integer(), nullable=True),
        sa.Column("memory", sa.BigInteger(), nullable=True),
        sa.Column("duration", sa.BigInteger(), nullable=True),
        sa.Column("realtime", sa.BigInteger(), nullable=True),
        sa.Column("submit", UtcDateTime(), nullable=True),
        sa.Column("start", UtcDateTime(), nullable=True),
        sa.Column("complete", UtcDateTime(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_run_task_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "task_id", name=op.f("pk_run_task")),
    )
    op.create_table(
        "run_process",
        sa.Column("run_id", sa.String(length=22), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        *(
            sa.Column(column, sa.Integer(), nullable=False)
            for column in (
                "pending",
                "submitted",
                "running",
                "succeeded",
                "failed",
                "cached",
                "aborted",
            )
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_run_process_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "name", name=op.f("pk_run_process")),
    )
    op.create_table(
        "run_trace",
        sa.Column("run_id", sa.String(length=22), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=True),
        sa.Column("progress_instant", sa.BigInteger(), nullable=False),
        sa.Column("process_names", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_run_trace_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_trace")),
    )
    _upgrade_health()


# --- H7 (beyond Seqera): stale runs, waiting tasks explained, cost estimates ---------------
# ``batchforge/db/models/health.py``: run_health, task_health, price_cache.


def _upgrade_health() -> None:
    op.create_table(
        "run_health",
        sa.Column("run_id", sa.String(length=22), nullable=False),
        sa.Column("stale_since", UtcDateTime(), nullable=True),
        sa.Column("stale_reason", sa.Text(), nullable=True),
        sa.Column("stale_status", sa.String(length=16), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("cost_tasks", sa.Integer(), nullable=False),
        sa.Column("cost_unpriced", sa.Integer(), nullable=False),
        sa.Column("cost_note", sa.Text(), nullable=True),
        sa.Column("cost_watermark", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_run_health_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_health")),
    )
    op.create_table(
        "task_health",
        sa.Column("run_id", sa.String(length=22), nullable=False),
        sa.Column("task_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("cost_note", sa.String(length=500), nullable=True),
        sa.Column("waiting_reason", sa.Text(), nullable=True),
        sa.Column("waiting_blocked", sa.Boolean(), nullable=False),
        sa.Column("waiting_checked_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id", "task_id"],
            ["run_task.run_id", "run_task.task_id"],
            name=op.f("fk_task_health_run_id_run_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "task_id", name=op.f("pk_task_health")),
    )
    op.create_table(
        "price_cache",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("usd_per_hour", sa.Float(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("fetched_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_price_cache")),
    )


def _downgrade_health() -> None:
    op.drop_table("price_cache")
    op.drop_table("task_health")
    op.drop_table("run_health")


def downgrade() -> None:
    _downgrade_health()
    op.drop_table("run_trace")
    op.drop_table("run_process")
    op.drop_table("run_task")
    op.drop_table("run_token")
    op.execute("DELETE FROM run WHERE compute_env_id IS NULL")
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_column("trace_workflow")
        batch_op.drop_column("trace_at")
        batch_op.drop_column("trace_state")
        batch_op.drop_column("origin")
        batch_op.alter_column("compute_env_id", existing_type=sa.String(length=22), nullable=False)
