"""One self-contained HTML document: the shared style sheet (light, dark and print) and
small helpers to write escaped markup."""

from __future__ import annotations

import html
from collections.abc import Iterable

CSS = """
:root { --bg:#ffffff; --fg:#1b1f24; --muted:#5b6470; --line:#d0d7de; --panel:#f6f8fa;
  --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; --info:#0969da; --accent:#8250df;
  --lane:#f0f3f6; --status:#ddf4ff; --path:#cf222e; }
@media (prefers-color-scheme: dark) {
  :root { --bg:#0d1117; --fg:#e6edf3; --muted:#9198a1; --line:#30363d; --panel:#161b22;
    --ok:#3fb950; --bad:#f85149; --warn:#d29922; --info:#58a6ff; --accent:#bc8cff;
    --lane:#161b22; --status:#0c2d6b; --path:#ff7b72; }
}
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
  max-width: 1200px; padding: 1.2rem; background: var(--bg); color: var(--fg); }
h1 { font-size: 1.5rem; margin: .2rem 0 .6rem; }
h2 { font-size: 1.2rem; margin: 1.6rem 0 .5rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; }
table { border-collapse: collapse; margin: .4rem 0; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: left;
  vertical-align: top; }
th { background: var(--panel); }
.verdict { display: inline-block; padding: .15rem .6rem; border-radius: 1rem; color: #fff;
  font-weight: 600; }
.v-proven, .v-pass { background: var(--ok); }
.v-counterexample, .v-fail, .v-invalid { background: var(--bad); }
.v-inconclusive { background: var(--warn); }
.ok { color: var(--ok); } .bad { color: var(--bad); } .muted { color: var(--muted); }
.sev-error { color: var(--bad); font-weight: 600; } .sev-warning { color: var(--warn);
  font-weight: 600; } .sev-info { color: var(--info); font-weight: 600; }
.fix { color: var(--ok); }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
  padding: .6rem .8rem; margin: .5rem 0; }
.figure { overflow-x: auto; margin: .4rem 0 1rem; }
ol.story { margin: .2rem 0; padding-left: 2.2rem; font-size: .92em; }
ol.story li.violation { color: var(--bad); font-weight: 600; }
svg { font-family: system-ui, sans-serif; }
svg text { fill: var(--fg); font-size: 11px; }
svg .muted { fill: var(--muted); }
svg .lane { fill: var(--lane); }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .status { fill: var(--status); stroke: var(--line); }
svg .event { fill: var(--info); }
svg .fault { stroke: var(--bad); stroke-width: 2.5; }
svg .violation { fill: var(--bad); }
svg .poll { stroke: var(--accent); stroke-width: 2; }
svg .bar { fill: var(--info); } svg .bar.bad { fill: var(--bad); }
svg .bar.ok { fill: var(--ok); } svg .bar.warn { fill: var(--warn); }
svg .series-a { stroke: var(--info); fill: none; stroke-width: 2; }
svg .series-b { stroke: var(--bad); fill: none; stroke-width: 2; stroke-dasharray: 5 3; }
svg .axis { stroke: var(--muted); stroke-width: 1; }
svg .state { fill: var(--panel); stroke: var(--muted); stroke-width: 1.5; }
svg .state.terminal { stroke-width: 3; }
svg .state.on-path { stroke: var(--path); stroke-width: 3.5; }
svg .edge { stroke: var(--muted); fill: none; stroke-width: 1.2; }
svg .edge.on-path { stroke: var(--path); stroke-width: 3.5; }
svg .arrow { fill: var(--muted); } svg .arrow.on-path { fill: var(--path); }
@media print {
  :root { --bg:#fff; --fg:#000; --panel:#fff; --lane:#f4f4f4; --status:#e8f0ff; }
  body { max-width: none; padding: 0; }
  .no-print { display: none !important; }
  .figure, table, .panel { break-inside: avoid; }
  .figure { overflow: visible; }
  .figure svg { max-width: 100%; height: auto; }  /* a long timeline shrinks to the page */
  .verdict { border: 1px solid #000; color: #000; background: none !important; }
}
"""


def esc(text: object) -> str:
    """Text made safe for HTML and SVG (quotes too: it goes into attributes)."""
    return html.escape(str(text), quote=True)


def document(title: str, body: str, *, script: str = "", style: str = "") -> str:
    """A whole page: one file, no external resource."""
    tail = f"<script>\n{script}\n</script>\n" if script else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}{style}</style>\n</head>\n"
        f"<body>\n{body}\n{tail}</body>\n</html>\n"
    )


def table(head: Iterable[str], rows: Iterable[Iterable[str]], *, cls: str = "") -> str:
    """A table of already-escaped cells."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def verdict_badge(verdict: str) -> str:
    return f'<span class="verdict v-{esc(verdict.lower())}">{esc(verdict)}</span>'


def diagnostics_list(found: Iterable[tuple[str, str, str, str, str]]) -> str:
    """Findings as a list: (where, severity, code, message, fix), each fix under its finding."""
    items = []
    for where, severity, code, message, fix in found:
        at = f'<span class="mono muted">{esc(where)}</span> ' if where else ""
        line = (
            f'<li>{at}<span class="sev-{esc(severity)}">{esc(severity)}</span> '
            f"<code>{esc(code)}</code> {esc(message)}"
        )
        if fix:
            line += f'<br><span class="fix">fix: {esc(fix)}</span>'
        items.append(line + "</li>")
    if not items:
        return '<p class="muted">No findings.</p>'
    return '<ul class="findings">' + "".join(items) + "</ul>"
