"""What batchforge adds to a run's trace beyond Seqera: stale runs, waiting tasks explained,
cost estimates (see ``services/run_health.py`` and ``services/run_costs.py``).

- :class:`RunHealth`: per run, whether it went stale (no report from Nextflow for a while, and
  why), and its cost estimate (the sum over its priced tasks, with how many could not be
  priced and why).
- :class:`TaskHealth`: per task, why it waits in AWS Batch's RUNNABLE state (from its Batch job
  and compute environment), and its cost estimate or why it has none.
- :class:`PriceCache`: hourly prices from the AWS Price List API (on-demand) and EC2's Spot
  price history, with an expiry, so each (type, region or zone) is asked once per period.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from batchforge.db.models.base import Base, UtcDateTime, utcnow


class RunHealth(Base):
    """Staleness and the cost estimate of one run (a row once either is known)."""

    __tablename__ = "run_health"

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    # Set when the run stopped reporting: the time of its last report, and why it is stale.
    stale_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    stale_reason: Mapped[str | None] = mapped_column(Text)
    # The status the run had before it was shown UNKNOWN (runs with no head job), restored
    # when Nextflow reports again.
    stale_status: Mapped[str | None] = mapped_column(String(16))
    # USD: the sum of the task estimates; NULL while no task was priced.
    cost: Mapped[float | None] = mapped_column(Float)
    cost_tasks: Mapped[int] = mapped_column(Integer, default=0)
    cost_unpriced: Mapped[int] = mapped_column(Integer, default=0)
    cost_note: Mapped[str | None] = mapped_column(Text)
    # Tasks updated after this were not looked at for pricing yet.
    cost_watermark: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class TaskHealth(Base):
    """Why a task waits in RUNNABLE, and its cost estimate (or why it has none)."""

    __tablename__ = "task_health"
    __table_args__ = (
        ForeignKeyConstraint(
            ["run_id", "task_id"],
            ["run_task.run_id", "run_task.task_id"],
            ondelete="CASCADE",
        ),
    )

    run_id: Mapped[str] = mapped_column(String(22), primary_key=True)
    task_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    cost: Mapped[float | None] = mapped_column(Float)
    cost_note: Mapped[str | None] = mapped_column(String(500))
    waiting_reason: Mapped[str | None] = mapped_column(Text)
    # True when the environment can never place the job as it is (not just busy).
    waiting_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    waiting_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PriceCache(Base):
    """One hourly price (USD) or why there is none, until ``expires_at``.

    ``key``: ``on-demand/<region>/<type>`` or ``spot/<zone>/<type>``."""

    __tablename__ = "price_cache"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    usd_per_hour: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(String(500))
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
