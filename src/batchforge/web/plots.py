"""Pictures of a run for the web UI, drawn on the server as inline SVG: no script, no library,
nothing from another origin, and no ``style`` attribute (the pages' Content-Security-Policy
refuses inline styles: colours come from classes in ``app.css``).

- :func:`box_plot`: one horizontal box per process (and per series, e.g. read and written
  bytes side by side) from Seqera's ``ResourceData`` (``min``, ``q1``, ``q2``, ``q3``,
  ``max``, ``mean``), with a shared axis, a ``<title>``/``<desc>`` and a tooltip per box.
- :func:`progress_bar`: a process's tasks as one stacked bar (succeeded, cached, running,
  submitted, failed, pending), decorative: the page states the same counts in words.

Both return :class:`markupsafe.Markup`; every text inside is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

Formatter = Callable[[float], str]

# Geometry of a box plot, in SVG user units (the picture scales to its container's width).
WIDTH = 580
LABEL_WIDTH = 170
RIGHT_PAD = 24
TOP_PAD = 8
ROW_HEIGHT = 30
BOX_HEIGHT = 16
AXIS_HEIGHT = 34
MAX_LABEL_CHARS = 22

# A process's task states, in the order the progress bar stacks them.
PROGRESS_PARTS = ("succeeded", "cached", "running", "submitted", "failed", "pending")


@dataclass(frozen=True)
class Series:
    """One metric shown per process: its ``WorkflowMetrics`` key, a name and a CSS class."""

    key: str
    name: str
    css: str = "box-a"


@dataclass(frozen=True)
class Box:
    """A box to draw: the process, the series, and the five numbers plus the mean."""

    process: str
    series: Series
    low: float
    q1: float
    median: float
    q3: float
    high: float
    mean: float | None


def boxes_of(metrics: Sequence[Mapping[str, Any]], series: Sequence[Series]) -> list[Box]:
    """The boxes of ``series`` for each process of ``metrics`` (``WorkflowMetrics`` as JSON);
    a process without data for a series (``null``, or no quartiles) has no box for it."""
    found: list[Box] = []
    for entry in metrics:
        for one in series:
            data = entry.get(one.key)
            if not isinstance(data, Mapping):
                continue
            numbers = [data.get(k) for k in ("min", "q1", "q2", "q3", "max")]
            if any(not isinstance(n, int | float) for n in numbers):
                continue
            low, q1, q2, q3, high = (float(n) for n in numbers)  # type: ignore[arg-type]
            mean = data.get("mean")
            found.append(
                Box(
                    str(entry.get("process") or "?"),
                    one,
                    low,
                    q1,
                    q2,
                    q3,
                    high,
                    float(mean) if isinstance(mean, int | float) else None,
                )
            )
    return found


# Round steps for a time axis, in milliseconds: seconds, minutes, hours.
TIME_STEPS = tuple(
    n * unit
    for unit, counts in ((1000, (1, 2, 5, 10, 15, 30)), (60_000, (1, 2, 5, 10, 15, 30)))
    for n in counts
) + tuple(h * 3_600_000 for h in (1, 2, 3, 6, 12, 24, 48))


def nice_ticks(top: float, count: int = 5, kind: str = "decimal") -> list[float]:
    """Round axis ticks from 0 to at least ``top``: 1, 2, 2.5 or 5 times a power of ten;
    for ``kind="bytes"`` in powers of 1024 (1 GB, not 953.7 MB); for ``kind="ms"`` in whole
    seconds, minutes or hours."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    if kind == "bytes" and top >= 1024:
        unit = 1024 ** min(int(math.log(top, 1024)), 5)
        return [tick * unit for tick in nice_ticks(top / unit, count)]
    if kind == "ms" and top / count >= 1000:
        step = next((s for s in TIME_STEPS if s >= top / count), None)
        if step is not None:
            return [float(step * i) for i in range(math.ceil(top / step - 1e-9) + 1)]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [0.0]
    while ticks[-1] < top - 1e-9 * top:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else "…" + text[-(MAX_LABEL_CHARS - 1) :]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def box_plot(
    plot_id: str,
    title: str,
    metrics: Sequence[Mapping[str, Any]],
    series: Sequence[Series],
    fmt: Formatter,
    kind: str = "decimal",
) -> Markup:
    """An SVG box plot of ``series`` per process of ``metrics``, values written with ``fmt``
    on an axis of ``kind`` (see :func:`nice_ticks`).

    ``plot_id`` makes the ids of its title and description unique in the page.  Empty
    (no data at all) gives an empty Markup: the caller says there is nothing to plot."""
    boxes = boxes_of(metrics, series)
    if not boxes:
        return Markup("")
    ticks = nice_ticks(max(b.high for b in boxes), kind=kind)
    scale_top = ticks[-1] or 1.0
    plot_width = WIDTH - LABEL_WIDTH - RIGHT_PAD

    def x(value: float) -> float:
        return LABEL_WIDTH + max(0.0, min(value, scale_top)) / scale_top * plot_width

    height = TOP_PAD + ROW_HEIGHT * len(boxes) + AXIS_HEIGHT
    desc = "; ".join(_describe(b, fmt, len(series) > 1) for b in boxes)
    parts = [
        f'<svg class="boxplot" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{plot_id}-title {plot_id}-desc" focusable="false">',
        f'<title id="{plot_id}-title">{escape(title)}</title>',
        f'<desc id="{plot_id}-desc">{escape(desc)}</desc>',
    ]
    axis_y = TOP_PAD + ROW_HEIGHT * len(boxes)
    for tick in ticks:
        tx = _num(x(tick))
        parts.append(
            f'<line class="grid" x1="{tx}" x2="{tx}" y1="{TOP_PAD}" y2="{axis_y}"></line>'
            f'<text class="tick" x="{tx}" y="{axis_y + 20}" text-anchor="middle">'
            f"{escape(fmt(tick))}</text>"
        )
    parts.append(
        f'<line class="axis" x1="{LABEL_WIDTH}" x2="{WIDTH - RIGHT_PAD}" '
        f'y1="{axis_y}" y2="{axis_y}"></line>'
    )
    previous = None
    for row, box in enumerate(boxes):
        mid = TOP_PAD + ROW_HEIGHT * row + ROW_HEIGHT / 2
        label = box.process if box.process != previous else ""
        if len(series) > 1:
            label = f"{_short(box.process)} · {box.series.name}" if label else box.series.name
        previous = box.process
        parts.append(_box_svg(box, mid, _short(label) if label else "", x, fmt))
    parts.append("</svg>")
    return Markup("".join(parts))


def _box_svg(box: Box, mid: float, label: str, x: Callable[[float], float], fmt: Formatter) -> str:
    top, bottom = mid - BOX_HEIGHT / 2, mid + BOX_HEIGHT / 2
    left, right = x(box.q1), x(box.q3)
    pieces = [
        f'<g class="box {box.series.css}">',
        f"<title>{escape(_describe(box, fmt, True))}</title>",
        f'<text class="label" x="{LABEL_WIDTH - 8}" y="{_num(mid + 4)}" text-anchor="end">'
        f"{escape(label)}</text>",
        f'<line class="whisker" x1="{_num(x(box.low))}" x2="{_num(left)}" '
        f'y1="{_num(mid)}" y2="{_num(mid)}"></line>',
        f'<line class="whisker" x1="{_num(right)}" x2="{_num(x(box.high))}" '
        f'y1="{_num(mid)}" y2="{_num(mid)}"></line>',
    ]
    for end in (box.low, box.high):
        pieces.append(
            f'<line class="whisker" x1="{_num(x(end))}" x2="{_num(x(end))}" '
            f'y1="{_num(mid - 5)}" y2="{_num(mid + 5)}"></line>'
        )
    pieces.append(
        f'<rect class="iqr" x="{_num(left)}" y="{_num(top)}" '
        f'width="{_num(max(right - left, 1.5))}" height="{BOX_HEIGHT}" rx="2"></rect>'
    )
    pieces.append(
        f'<line class="median" x1="{_num(x(box.median))}" x2="{_num(x(box.median))}" '
        f'y1="{_num(top)}" y2="{_num(bottom)}"></line>'
    )
    if box.mean is not None:
        mx = x(box.mean)
        pieces.append(
            f'<path class="mean" d="M{_num(mx)} {_num(mid - 4)} l4 4 l-4 4 l-4 -4 z"></path>'
        )
    pieces.append("</g>")
    return "".join(pieces)


def _describe(box: Box, fmt: Formatter, with_series: bool) -> str:
    name = f"{box.process} ({box.series.name})" if with_series else box.process
    text = (
        f"{name}: min {fmt(box.low)}, lower quartile {fmt(box.q1)}, median {fmt(box.median)}, "
        f"upper quartile {fmt(box.q3)}, max {fmt(box.high)}"
    )
    return text + (f", mean {fmt(box.mean)}" if box.mean is not None else "")


def progress_parts(process: Mapping[str, Any]) -> list[tuple[str, int]]:
    """A process's task counts (``TraceProgressDetail``/``ProcessLoad``) in stacking order,
    only those above zero."""
    parts = []
    for key in PROGRESS_PARTS:
        value = process.get(key)
        if isinstance(value, int) and value > 0:
            parts.append((key, value))
    return parts


def progress_bar(process: Mapping[str, Any]) -> Markup:
    """A stacked bar of a process's tasks; hidden from assistive technology (the page says the
    numbers in words next to it)."""
    parts = progress_parts(process)
    total = sum(n for _, n in parts)
    pieces = [
        '<svg class="progress-bar" viewBox="0 0 100 10" preserveAspectRatio="none" '
        'aria-hidden="true" focusable="false">',
        '<rect class="seg-track" x="0" y="0" width="100" height="10"></rect>',
    ]
    start = 0.0
    for key, count in parts:
        width = count / total * 100 if total else 0
        pieces.append(
            f'<rect class="seg-{key}" x="{start:.3f}" y="0" width="{width:.3f}" height="10"></rect>'
        )
        start += width
    pieces.append("</svg>")
    return Markup("".join(pieces))
