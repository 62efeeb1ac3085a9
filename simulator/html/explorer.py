"""The settings explorer page of ``houzzflow matrix --format html``: one static file holding
every verdict of the settings atlas (``simulator.proof.atlas``).

Controls for each CartRover setting, each world fact and each open question; any change
shows at once the verdict, the findings with their fixes, the counterexample's swimlane (the
SVG is drawn here, in Python, once per distinct story) and the nearest proven settings with
a button that applies them. A grid colours the whole matrix; the URL's fragment holds the
state (``#connection_type=seller&order_status=charged&...``), so a link restores it.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from houzzflow.engine.table import houzz_table
from houzzflow.simulator.html.page import document, esc
from houzzflow.simulator.html.swimlane import figure, steps_of_story
from houzzflow.simulator.proof.atlas import Atlas
from houzzflow.simulator.runs.invariants import INVARIANTS


def explorer_data(atlas: Atlas) -> dict[str, Any]:
    """The atlas's data with each counterexample's swimlane drawn, as the page embeds it."""
    data = atlas.to_json()
    labels = list(houzz_table("seller", "legacy").labels.values())
    texts = data["texts"]
    drawn = []
    for story in data["stories"]:
        lines = [(kind, order, texts[t]) for kind, order, t in story]
        culprit = lines[-1][1] if lines else 1
        drawn.append(figure(steps_of_story(lines, labels), f"order #{culprit}: {lines[-1][2]}"))
    data["stories"] = drawn
    del data["texts"]
    data["invariants"] = INVARIANTS
    return data


def _select(group: str, control: dict[str, Any], *, anything: str = "") -> str:
    key = control["key"]
    options = [f'<option value="">{esc(anything)}</option>'] if anything else []
    options += [
        f'<option value="{esc(v)}">{esc(label)}</option>'
        for v, label in zip(control["values"], control["labels"], strict=True)
    ]
    return (
        f'<label class="control" title="{esc(control.get("title", control["label"]))}">'
        f"<span>{esc(control['label'])}</span>"
        f'<select data-group="{group}" data-key="{esc(key)}" id="c-{esc(key)}">'
        f"{''.join(options)}</select></label>"
    )


STYLE = """
.controls { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr));
  gap: .4rem .8rem; }
.control { display: flex; flex-direction: column; font-size: .9em; }
.control select { font: inherit; padding: .2rem; background: var(--bg); color: var(--fg);
  border: 1px solid var(--line); border-radius: 4px; }
#verdict-line { font-size: 1.15rem; margin: .6rem 0; }
button { font: inherit; padding: .3rem .8rem; border-radius: 5px; border: 1px solid var(--ok);
  background: var(--ok); color: #fff; cursor: pointer; }
#grid { image-rendering: pixelated; border: 1px solid var(--line); cursor: crosshair; }
.legend span { display: inline-block; width: .9em; height: .9em; margin: 0 .3em 0 .8em;
  vertical-align: middle; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: .6rem 0; }
legend { font-weight: 600; }
"""


def explorer_report(atlas: Atlas, **_: Any) -> str:
    """``matrix --format html`` (houzzflow.simulator.output's renderer)."""
    return explorer_html(atlas)


def explorer_html(atlas: Atlas) -> str:
    """The whole page."""
    data = explorer_data(atlas)
    settings = "".join(_select("settings", c) for c in data["settings"])
    world = "".join(_select("world", c) for c in data["world"])
    assumptions = "".join(
        _select(
            "assume",
            {**q, "label": f"{q['key']}: {q['label']}", "labels": q["values"], "title": q["label"]},
            anything="explore every answer",
        )
        for q in data["assumptions"]
    )
    bounds = data["bounds"]
    body = f"""
<h1>houzzflow settings explorer</h1>
<p class="muted">Every verdict of the settings matrix, proven by exhaustive exploration within
{bounds["orders"]} orders and up to {bounds["faults"]} API fault (as <code>houzzflow
validate</code>). Change a setting to see at once whether CartRover can lose, duplicate or
wrongly ship an order. The link in the address bar is this setup: send it.</p>
<fieldset><legend>CartRover settings</legend><div class="controls">{settings}</div></fieldset>
<fieldset><legend>The merchant's world</legend><div class="controls">{world}</div></fieldset>
<fieldset><legend>Open questions about Houzz and CartRover
(<code>houzzflow assumptions</code>)</legend><div class="controls">{assumptions}</div>
</fieldset>
<div id="verdict-line" aria-live="polite"></div>
<div id="nearest" class="panel"></div>
<h2>Findings and fixes</h2>
<div id="findings"></div>
<h2>The counterexample</h2>
<div id="story"></div>
<h2>The whole matrix</h2>
<p class="muted">One column per world (program, era, staff habits), one row per setting; the
open questions as chosen above. Click a cell to open it; the outlined one is this setup.</p>
<p class="legend"><span style="background:#2da44e"></span>proven<span
style="background:#cf222e"></span>counterexample<span style="background:#bf8700"></span>
inconclusive<span style="background:#8c959f"></span>not in this page</p>
<canvas id="grid" role="img" aria-label="every verdict of the matrix: a column per world, a
row per setting; green proven, red counterexample"></canvas>
<p id="grid-hover" class="muted mono"></p>
<script type="application/json" id="atlas">{_json(data)}</script>
"""
    script = resources.files("houzzflow.simulator.html").joinpath("explorer.js").read_text()
    return document("houzzflow settings explorer", body, script=script, style=STYLE)


def _json(data: dict[str, Any]) -> str:
    # Inside <script>, "</" could close the element early; JSON allows "<\\/" for it.
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
