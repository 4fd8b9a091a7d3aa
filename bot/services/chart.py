"""The report's chart: median first response by day, as a PNG for chat. matplotlib with
its Agg backend draws without a display, in memory."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display on a server; set before pyplot is imported

from matplotlib.figure import Figure

from bot.domain.reports import Figures


def first_response_chart(figures: Figures, title: str = "First response by day") -> bytes:
    """A bar per day (median minutes to the first reply), the target as a line."""
    figure = Figure(figsize=(7, 3.2), dpi=100)
    axes = figure.subplots()
    days = [d.day.strftime("%a %d") for d in figures.by_day]
    minutes = [d.median_minutes or 0.0 for d in figures.by_day]
    axes.bar(days, minutes, color="#2f6fb0")
    if figures.target_minutes:
        axes.axhline(figures.target_minutes, color="#c0392b", linestyle="--", label="target")
        axes.legend(loc="upper right")
    if not days:
        axes.text(0.5, 0.5, "no answered conversations", ha="center", transform=axes.transAxes)
    axes.set_ylabel("median minutes")
    axes.set_title(title)
    axes.tick_params(axis="x", labelrotation=30)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
