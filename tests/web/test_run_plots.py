"""The run page's pictures without a browser: box plots from ``ResourceData`` quartiles and
the processes' progress bars, as SVG that the strict CSP accepts (no ``style`` attribute)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from batchforge.web.plots import Series, box_plot, nice_ticks, progress_bar

SVG = "{http://www.w3.org/2000/svg}"


def _data(low: float, q1: float, q2: float, q3: float, high: float, mean: float) -> dict:
    return {"min": low, "q1": q1, "q2": q2, "q3": q3, "max": high, "mean": mean}


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup).replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


METRICS = [
    {"process": "ALIGN", "cpu": _data(10, 20, 50, 80, 100, 52), "reads": None},
    {"process": "<script>x</script>", "cpu": _data(0, 5, 5, 6, 40, 9)},
    {"process": "NO_DATA", "cpu": None},
]


def test_a_box_per_process_with_its_numbers_in_words() -> None:
    svg = _parse(box_plot("cpu", "CPU per process", METRICS, [Series("cpu", "CPU")], str))
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "cpu-title cpu-desc"
    assert svg.find(f"{SVG}title").text == "CPU per process"
    desc = svg.find(f"{SVG}desc").text
    assert "ALIGN: min 10.0, lower quartile 20.0, median 50.0" in desc
    assert "NO_DATA" not in desc  # no data, no box
    boxes = svg.findall(f"{SVG}g")
    assert len(boxes) == 2
    first = boxes[0]
    assert first.find(f"{SVG}title").text.startswith("ALIGN (CPU): min 10.0")
    rect = first.find(f"{SVG}rect")
    median = first.find(f"{SVG}line[@class='median']")
    # q1 < median < q3 on the axis, the axis ends at a round number at or above the max (100)
    left, width = float(rect.get("x")), float(rect.get("width"))
    assert left < float(median.get("x1")) < left + width
    ticks = [t.text for t in svg.findall(f"{SVG}text[@class='tick']")]
    assert ticks[0] == "0.0" and ticks[-1] == "100.0"


def test_names_are_escaped_and_no_inline_style() -> None:
    markup = str(box_plot("p", "t", METRICS, [Series("cpu", "CPU")], str))
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert "style=" not in markup
    assert "style=" not in str(progress_bar({"succeeded": 2, "failed": 1, "pending": 1}))


def test_grouped_series_share_the_axis() -> None:
    metrics = [
        {"process": "P", "reads": _data(0, 1, 2, 3, 4, 2), "writes": _data(0, 2, 4, 6, 8, 4)}
    ]
    series = [Series("reads", "read", "box-a"), Series("writes", "written", "box-b")]
    svg = _parse(box_plot("io", "I/O", metrics, series, str))
    classes = [g.get("class") for g in svg.findall(f"{SVG}g")]
    assert classes == ["box box-a", "box box-b"]
    labels = [t.text for t in svg.findall(f"{SVG}g/{SVG}text")]
    assert labels == ["P · read", "written"]


def test_nothing_to_plot_is_empty() -> None:
    assert str(box_plot("x", "t", [{"process": "P", "cpu": None}], [Series("cpu", "c")], str)) == ""


@pytest.mark.parametrize(
    ("top", "expected"),
    [(100, [0, 20, 40, 60, 80, 100]), (7, [0, 2, 4, 6, 8]), (0, [0, 1]), (0.3, [0, 0.1, 0.2, 0.3])],
)
def test_axis_ticks_are_round(top: float, expected: list[float]) -> None:
    assert nice_ticks(top) == pytest.approx(expected)


def test_byte_and_time_axes_step_in_their_units() -> None:
    gib = 1024**3
    assert nice_ticks(2.8 * gib, kind="bytes") == [0, gib, 2 * gib, 3 * gib]
    assert nice_ticks(700, kind="bytes") == [0, 200, 400, 600, 800]
    minute = 60_000
    assert nice_ticks(250_000, kind="ms") == [
        0,
        minute,
        2 * minute,
        3 * minute,
        4 * minute,
        5 * minute,
    ]
    assert nice_ticks(7 * 3_600_000, kind="ms") == [h * 3_600_000 for h in (0, 2, 4, 6, 8)]
    assert nice_ticks(900, kind="ms") == pytest.approx([0, 200, 400, 600, 800, 1000])


def test_progress_bar_segments_add_up() -> None:
    svg = _parse(str(progress_bar({"succeeded": 3, "running": 1, "pending": 0, "failed": 0})))
    assert svg.get("aria-hidden") == "true"
    segments = {r.get("class"): float(r.get("width")) for r in svg.findall(f"{SVG}rect")}
    assert segments == {"seg-track": 100, "seg-succeeded": 75, "seg-running": 25}
