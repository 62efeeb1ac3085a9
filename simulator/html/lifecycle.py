"""Houzz's order lifecycle as SVG, with a path (the statuses an order went through, e.g. a
counterexample's) drawn over it in red.

The states and edges are ``engine.diagram.houzz_graph``'s, the ones the Mermaid diagram of
``houzzflow diagram`` draws. Houzz's six statuses have a fixed place (the way an order goes
well runs left to right, Failed to Charge below it, Cancelled, which nearly every status can
reach, as a wide box at the bottom); a status the machine may add later goes on a row of its
own, so it is drawn, if less neatly.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from houzzflow.engine.diagram import Graph, houzz_graph
from houzzflow.simulator.html.page import esc

BOX_W, BOX_H = 132, 36
COL_W, ROW_H = 190, 92
LEFT, TOP = 20, 70
# (column, row) of Houzz's statuses; Cancelled spans every column.
PLACES = {
    "New": (0.0, 0),
    "InProduction": (1.0, 0),
    "Charged": (2.0, 0),
    "Shipped": (3.0, 0),
    "FailedToCharge": (1.5, 1),
}
SINK = "Cancelled"
Box = tuple[float, float, float, float]  # x, y, width, height


def _boxes(graph: Graph) -> dict[str, Box]:
    boxes: dict[str, Box] = {}
    extra = 0
    for name in graph.states:
        if name == SINK:
            continue
        col, row = PLACES.get(name, (float(extra), 3))
        if name not in PLACES:
            extra += 1
        boxes[name] = (LEFT + col * COL_W, TOP + row * ROW_H, BOX_W, BOX_H)
    if SINK in graph.states:
        boxes[SINK] = (LEFT, TOP + 2 * ROW_H, 3 * COL_W + BOX_W, BOX_H)
    return boxes


def path_of(statuses: Sequence[str], graph: Graph) -> tuple[set[str], set[tuple[str, str]]]:
    """The states and edges a sequence of statuses (names or labels) passes through."""
    by_label = {label: name for name, label in graph.labels.items()}
    names = [by_label.get(s, s) for s in statuses if by_label.get(s, s) in graph.labels]
    seq = [n for i, n in enumerate(names) if i == 0 or names[i - 1] != n]
    return set(seq), set(itertools.pairwise(seq))


def _reached(graph: Graph) -> set[str]:
    seen = set(graph.initial)
    todo = list(seen)
    while todo:
        here = todo.pop()
        for src, dest, _ in graph.edges:
            if src == here and dest not in seen:
                seen.add(dest)
                todo.append(dest)
    return seen


def _centre(box: Box) -> tuple[float, float]:
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def _exit(box: Box, toward: tuple[float, float]) -> tuple[float, float]:
    """Where the line from the box's centre toward a point leaves the box."""
    cx, cy = _centre(box)
    dx, dy = toward[0] - cx, toward[1] - cy
    scale = min(
        (box[2] / 2) / abs(dx) if dx else math.inf, (box[3] / 2) / abs(dy) if dy else math.inf
    )
    return cx + dx * scale, cy + dy * scale


def lifecycle_svg(account: str, era: str, statuses: Sequence[str] = (), *, title: str = "") -> str:
    """The lifecycle of one program and era; ``statuses`` (e.g. an order's) drawn in red."""
    graph = houzz_graph(account, era)
    boxes = _boxes(graph)
    reached = _reached(graph)
    on_states, on_edges = path_of(statuses, graph)
    width = max(b[0] + b[2] for b in boxes.values()) + 30
    height = max(b[1] + b[3] for b in boxes.values()) + 20
    name = title or f"Houzz order lifecycle, {account} {era}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lifecycle" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{esc(name)}"><title>{esc(name)}</title><defs>',
        *(
            f'<marker id="arrow{k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
            f'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
            f'<path class="arrow{c}" '
            'd="M0,0L10,5L0,10Z"/></marker>'
            for k, c in (("", ""), ("-path", " on-path"))
        ),
        "</defs>",
    ]
    texts: list[str] = []
    pairs = {(s, d) for s, d, _ in graph.edges}
    for src, dest, action in graph.edges:
        hot = (src, dest) in on_edges
        d, (lx, ly) = _edge(boxes[src], boxes[dest], dest == SINK, (dest, src) in pairs, src < dest)
        klass = "edge on-path" if hot else "edge"
        marker = "url(#arrow-path)" if hot else "url(#arrow)"
        out.append(
            f'<path class="{klass}" d="{d}" marker-end="{marker}">'
            f"<title>{esc(action)}</title></path>"
        )
        weight = ' font-weight="700"' if hot else ""
        texts.append(
            f'<text class="{"" if hot else "muted"}" x="{lx:.0f}" y="{ly:.0f}" '
            f'text-anchor="middle" font-size="10"{weight}>{esc(action)}</text>'
        )
    for state in graph.states:
        x, y, w, h = boxes[state]
        klass = "state"
        if state in graph.terminal:
            klass += " terminal"
        if state in on_states:
            klass += " on-path"
        faded = ' opacity="0.45"' if state not in reached else ""
        note = "" if state in reached else " (never reached here)"
        out.append(
            f'<g{faded}><rect class="{klass}" x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" '
            f'height="{h:.0f}" rx="8"><title>{esc(graph.labels[state])}{note}</title></rect>'
            f'<text x="{x + w / 2:.0f}" y="{y + h / 2 + 4:.0f}" text-anchor="middle" '
            f'font-weight="600">{esc(graph.labels[state])}</text></g>'
        )
    out += texts
    start = ", ".join(graph.labels[s] for s in graph.initial)
    out.append(
        f'<text class="muted" x="8" y="16">Houzz order status, {esc(account)} {esc(era)}: '
        f"orders start {esc(start)}"
        f"{'; in red, the path of the order shown' if on_states else ''}</text>"
    )
    out.append("</svg>")
    return "".join(out)


def _edge(
    a: Box, b: Box, to_sink: bool, paired: bool, first: bool
) -> tuple[str, tuple[float, float]]:
    """The SVG path of one edge and where its label goes."""
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    if to_sink:  # straight down into the wide box
        x = ax - 24 if ax < bx else ax + 24
        y0, y1 = a[1] + a[3], b[1]
        return f"M{x:.0f},{y0:.0f} L{x:.0f},{y1:.0f}", (x + (16 if ax >= bx else -16), y1 - 6)
    if abs(ay - by) < 1 and (bx - ax > COL_W + 1 or bx < ax):  # along the row, not adjacent
        lift = 34 if bx > ax else 54
        sx, ex = (
            (a[0] + a[2] * 0.7, b[0] + b[2] * 0.3)
            if bx > ax
            else (a[0] + a[2] * 0.3, b[0] + b[2] * 0.7)
        )
        top = a[1] - lift
        return (
            f"M{sx:.0f},{a[1]:.0f} C{sx:.0f},{top:.0f} {ex:.0f},{top:.0f} {ex:.0f},{b[1]:.0f}",
            ((sx + ex) / 2, top + lift / 4 - 2),
        )
    start, end = _exit(a, (bx, by)), _exit(b, (ax, ay))
    label_side = 30.0
    if paired:  # two edges between the same states: side by side, each labelled on its side
        (px, py), (qx, qy) = (start, end) if first else (end, start)
        n = math.hypot(qx - px, qy - py) or 1
        off = 7 if first else -7
        ox, oy = -(qy - py) / n * off, (qx - px) / n * off
        start, end = (start[0] + ox, start[1] + oy), (end[0] + ox, end[1] + oy)
        label_side = -48 if ox < 0 else 48
    mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
    label = (mx, my - 6) if abs(start[1] - end[1]) < 1 else (mx + label_side, my)
    return f"M{start[0]:.0f},{start[1]:.0f} L{end[0]:.0f},{end[1]:.0f}", label
