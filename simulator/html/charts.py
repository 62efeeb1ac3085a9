"""Charts as SVG: horizontal bars for counts, lines over simulated time."""

from __future__ import annotations

from collections.abc import Sequence

from houzzflow.simulator.html.page import esc

BAR_H = 22
LABEL_W = 330


def bar_chart(items: Sequence[tuple[str, int, str]], *, title: str) -> str:
    """One bar per ``(label, count, kind)``; kind colours it (ok, bad, warn or "")."""
    if not items:
        return '<p class="muted">Nothing to count.</p>'
    top = max(n for _, n, _ in items) or 1
    span = 360
    width = LABEL_W + span + 70
    height = BAR_H * len(items) + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bars" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">',
        f"<title>{esc(title)}</title>",
    ]
    for i, (label, n, kind) in enumerate(items):
        y = 4 + i * BAR_H
        w = max(1.0, span * n / top) if n else 0
        out.append(
            f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end">{esc(_cut(label))}</text>'
        )
        out.append(
            f'<rect class="bar {esc(kind)}" x="{LABEL_W}" y="{y + 3}" width="{w:.1f}" '
            f'height="{BAR_H - 6}"><title>{esc(label)}: {n}</title></rect>'
        )
        out.append(f'<text x="{LABEL_W + w + 6:.1f}" y="{y + 15}">{n:,}</text>')
    out.append("</svg>")
    return "".join(out)


def _cut(label: str) -> str:
    return label if len(label) <= 52 else label[:51] + "…"


def line_chart(
    times: Sequence[int],
    series: Sequence[tuple[str, Sequence[int], str]],
    *,
    title: str,
    marker: tuple[int, str] | None = None,
) -> str:
    """Lines over simulated time (``times`` in seconds): ``(name, values, css class)``, with
    an optional vertical ``marker`` (a time and its words, e.g. where the drain began)."""
    if len(times) < 2:
        return '<p class="muted">Too short a run to chart.</p>'
    width, height, left, bottom, top = 760, 240, 56, 34, 14
    t0, t1 = times[0], times[-1]
    peak = max((max(v) for _, v, _ in series if v), default=0) or 1
    plot_w = width - left - 12
    plot_h = height - top - bottom

    def x(t: int) -> float:
        return left + plot_w * (t - t0) / max(1, t1 - t0)

    def y(v: int) -> float:
        return top + plot_h * (1 - v / peak)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height + 22 * len(series)}" viewBox="0 0 {width} '
        f'{height + 22 * len(series)}" role="img" '
        f'aria-label="{esc(title)}">',
        f"<title>{esc(title)}</title>",
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - 12}" '
        f'y2="{top + plot_h}"/>',
        f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{peak:,}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    for k in range(5):
        t = t0 + (t1 - t0) * k // 4
        out.append(
            f'<text class="muted" x="{x(t):.1f}" y="{height - 12}" '
            f'text-anchor="{"end" if k == 4 else "middle"}">'
            f"{esc(_days(t))}</text>"
        )
    if marker is not None and t0 <= marker[0] <= t1:
        mx = x(marker[0])
        out.append(
            f'<line class="grid" x1="{mx:.1f}" y1="{top}" x2="{mx:.1f}" y2="{top + plot_h}"/>'
        )
        out.append(f'<text class="muted" x="{mx + 4:.1f}" y="{top + 10}">{esc(marker[1])}</text>')
    for i, (name, values, klass) in enumerate(series):
        points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(times, values, strict=True))
        out.append(
            f'<polyline class="{esc(klass)}" points="{points}">'
            f"<title>{esc(name)}</title></polyline>"
        )
        lx, ly = left + 10, height + 8 + 20 * i
        out.append(f'<line class="{esc(klass)}" x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}"/>')
        out.append(f'<text x="{lx + 30}" y="{ly + 4}">{esc(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def _days(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    return f"day {days + 1} {rest // 3600:02d}h"
