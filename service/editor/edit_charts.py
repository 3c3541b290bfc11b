"""Charts of the post-edit analytics page, drawn on the server as SVG (no script, no chart
library, nothing fetched): horizontal bars, one per language or model version, each with
its value written beside it, so the chart reads without colour and prints as it shows."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 680
LABEL_W = 200      # the bar's label, left of the bars
BAR_W = 300        # a bar at 100 %
ROW_H = 28
TOP = 30           # room for the chart's title, written at the top
BAR_COLOUR = "#2a6ebb"
MARK_COLOUR = "#8a4b00"  # the threshold line and its label (4.5:1 on white and more)
TEXT_COLOUR = "#1b1b1b"


@dataclass(frozen=True)
class Bar:
    label: str
    fraction: float | None  # 0..1 of the bar's full width; None: no data
    text: str               # the value as written beside the bar


def bar_chart(chart_id: str, title: str, description: str, bars: list[Bar],
              mark: tuple[float, str] | None = None) -> Markup:
    """An SVG image named by its title and description (``role="img"``); ``mark`` draws a
    dashed vertical line at a fraction with its label (e.g. the auto-publish threshold)."""
    extra = 18 if mark else 0
    height = TOP + ROW_H * max(len(bars), 1) + extra + 4
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" '
        f'font-size="13">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
        f'<text x="0" y="16" font-weight="bold" fill="{TEXT_COLOUR}">{escape(title)}</text>']
    if not bars:
        parts.append(f'<text x="0" y="{TOP + 18}" fill="{TEXT_COLOUR}">No data.</text>')
    for index, bar in enumerate(bars):
        y = TOP + index * ROW_H
        width = 0 if bar.fraction is None else round(max(0.0, min(bar.fraction, 1.0)) * BAR_W,
                                                     1)
        parts.append(
            f'<g class="bar" data-label="{escape(bar.label)}">'
            f'<text x="{LABEL_W - 8}" y="{y + 18}" text-anchor="end" fill="{TEXT_COLOUR}">'
            f'{escape(_shorten(bar.label))}</text>'
            f'<rect x="{LABEL_W}" y="{y + 4}" width="{BAR_W}" height="{ROW_H - 8}" '
            f'fill="#eef2f7"/>'
            f'<rect class="value" x="{LABEL_W}" y="{y + 4}" width="{width}" '
            f'height="{ROW_H - 8}" fill="{BAR_COLOUR}"/>'
            f'<text x="{LABEL_W + BAR_W + 8}" y="{y + 18}" fill="{TEXT_COLOUR}">'
            f'{escape(bar.text)}</text></g>')
    if mark:
        x = LABEL_W + round(mark[0] * BAR_W, 1)
        bottom = TOP + ROW_H * max(len(bars), 1)
        parts.append(
            f'<line class="mark" x1="{x}" y1="{TOP}" x2="{x}" y2="{bottom}" '
            f'stroke="{MARK_COLOUR}" stroke-width="2" stroke-dasharray="4 3"/>'
            f'<text x="{x}" y="{bottom + 14}" text-anchor="middle" fill="{MARK_COLOUR}">'
            f'{escape(mark[1])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _shorten(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def percent(share: float | None) -> str:
    return "no data" if share is None else f"{share * 100:.1f} %"


def report_charts(report: dict, auto_safe_percent: int) -> dict:
    """The page's charts: unchanged by language, and per language its model versions
    (unchanged, chrF, editing time)."""
    mark = (auto_safe_percent / 100, f"auto is safe: {auto_safe_percent} %")
    out = {"languages": bar_chart(
        "chart-languages", "Sentences published unchanged, by language",
        "Share of each language's published sentences that editors left as the model "
        "wrote them; the dashed line is the share from which PUBLISH_POLICY auto is safe.",
        [Bar(f"{entry['name']} ({entry['language']})", entry["share_unchanged"],
             f"{percent(entry['share_unchanged'])} of {entry['segments']}")
         for entry in report["languages"]], mark), "versions": {}}
    for entry in report["languages"]:
        code, versions = entry["language"], entry["versions"]
        slowest = max((v["edit_seconds_mean"] or 0 for v in versions), default=0) or 1
        out["versions"][code] = [
            bar_chart(f"chart-{code}-unchanged", f"{entry['name']}: unchanged by model version",
                      "Share of sentences published unchanged for each model version, "
                      "oldest version first (the trend across upgrades).",
                      [Bar(v["model"], v["share_unchanged"],
                           f"{percent(v['share_unchanged'])} of {v['segments']}")
                       for v in versions], mark),
            bar_chart(f"chart-{code}-chrf", f"{entry['name']}: mean chrF by model version",
                      "Mean sentence chrF of the model's text against the published text "
                      "(100: nothing changed), with the mean TER (0: nothing changed).",
                      [Bar(v["model"], None if v["chrf"] is None else v["chrf"] / 100,
                           "no data" if v["chrf"] is None else
                           f"chrF {v['chrf']:.1f} · TER {v['ter']:.1f}")
                       for v in versions]),
            bar_chart(f"chart-{code}-time", f"{entry['name']}: editing time by model version",
                      "Mean seconds of editing per timed segment for each model version.",
                      [Bar(v["model"], None if v["edit_seconds_mean"] is None
                           else v["edit_seconds_mean"] / slowest,
                           "not timed" if v["edit_seconds_mean"] is None else
                           f"{v['edit_seconds_mean']:.1f} s over {v['timed_segments']}")
                       for v in versions])]
    return out
