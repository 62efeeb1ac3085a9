// houzzflow settings explorer: reads the atlas embedded in the page and shows the verdict of
// the chosen setup. No framework, no network. The verdict for answers pinned to the open
// questions is the worst of the distinct worlds consistent with them, as houzzflow validate
// explores them: a counterexample if any world breaks an invariant, proven if all are proven.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("atlas").textContent);
  const settings = data.settings, world = data.world, assume = data.assumptions;
  const VERDICT = { p: "proven", c: "counterexample", i: "inconclusive" };
  const COLOURS = { p: "#2da44e", c: "#cf222e", i: "#bf8700", none: "#8c959f" };
  const worldIndex = new Map(data.worlds.map((key, i) => [key, i]));
  const state = {
    settings: settings.map(() => 0),
    world: data.worlds[0].split(".").map(Number),
    pins: {},
  };

  // -- the data ---------------------------------------------------------------------------

  function settingPos(idx) {
    // itertools.product order: the last control varies fastest.
    let pos = 0;
    settings.forEach((c, k) => { pos = pos * c.values.length + idx[k]; });
    return pos;
  }

  function cellOf(settingIdx, worldIdx) {
    const w = worldIndex.get(worldIdx.join("."));
    if (w === undefined) return null;
    return data.cells[w][settingPos(settingIdx)];
  }

  function pinMask(pins) {
    let mask = 0;
    data.answers.forEach((facts, i) => {
      if (Object.entries(pins).every(([q, a]) => facts[q] === a)) mask |= 1 << i;
    });
    return mask;
  }

  function judge(cell, mask) {
    if (!cell) return null;
    const parts = data.partsets[cell[1]].filter((p) => (p[0] & mask) !== 0);
    const failing = parts.find((p) => p[1] === "c");
    const verdict = failing ? "c" : parts.some((p) => p[1] === "i") ? "i" : "p";
    let findset = data.findsets[cell[0]];
    if (Object.keys(state.pins).length) {
      const ids = new Set();
      parts.forEach((p) => data.findsets[p[4]].forEach((f) => ids.add(f)));
      findset = [...ids];
    }
    return { verdict, part: failing || null, findings: findset };
  }

  // -- the nearest proven settings ----------------------------------------------------------

  function* combos(lengths) {
    const idx = lengths.map(() => 0);
    while (true) {
      yield idx.slice();
      let k = lengths.length - 1;
      while (k >= 0 && ++idx[k] === lengths[k]) { idx[k] = 0; k--; }
      if (k < 0) return;
    }
  }

  function distance(a, b) {
    return a.reduce((n, v, k) => n + (v !== b[k] ? 1 : 0), 0);
  }

  // The proven cell with the fewest settings changed; failing that, changing staff habits
  // too (a setting alone cannot help when staff do a step by hand that CartRover also does).
  function nearest(mask) {
    let best = null;
    for (const s of combos(settings.map((c) => c.values.length))) {
      const j = judge(cellOf(s, state.world), mask);
      if (j && j.verdict === "p") {
        const d = distance(s, state.settings);
        if (!best || d < best.d) best = { d, settings: s, world: state.world.slice() };
      }
    }
    if (best) return best;
    const habits = world.map((c, k) => (k >= 2 ? c.values.length : 1));
    for (const h of combos(habits)) {
      const w = state.world.map((v, k) => (k >= 2 ? h[k] : v));
      for (const s of combos(settings.map((c) => c.values.length))) {
        const j = judge(cellOf(s, w), mask);
        if (j && j.verdict === "p") {
          const d = distance(s, state.settings) + 2 * distance(w, state.world);
          if (!best || d < best.d) best = { d, settings: s, world: w };
        }
      }
    }
    return best;
  }

  // -- the page -----------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    children.forEach((c) => node.append(c));
    return node;
  }

  function describeChange(target) {
    const out = [];
    settings.forEach((c, k) => {
      if (target.settings[k] !== state.settings[k]) {
        out.push(`${c.label}: ${c.labels[target.settings[k]]}`);
      }
    });
    world.forEach((c, k) => {
      if (target.world[k] !== state.world[k]) {
        out.push(`${c.label}: ${c.labels[target.world[k]]}`);
      }
    });
    return out.join("; ");
  }

  function render() {
    syncControls();
    const mask = pinMask(state.pins);
    const cell = cellOf(state.settings, state.world);
    const line = document.getElementById("verdict-line");
    const near = document.getElementById("nearest");
    const findings = document.getElementById("findings");
    const story = document.getElementById("story");
    line.replaceChildren();
    near.replaceChildren();
    findings.replaceChildren();
    story.replaceChildren();
    const j = judge(cell, mask);
    if (!j) {
      line.append("This world is not in this page's matrix (it was made for fewer worlds).");
      line.dataset.verdict = "none";
      drawGrid(mask);
      return;
    }
    const verdict = VERDICT[j.verdict];
    line.dataset.verdict = verdict;
    const badge = el("span", { class: `verdict v-${verdict}`, id: "verdict" }, verdict);
    line.append(badge);
    if (j.part) {
      line.append(` - breaks '${data.invariants[j.part[2]] || j.part[2]}'`);
    } else if (j.verdict === "p") {
      line.append(" - no order can be lost, duplicated or wrongly shipped within the bounds");
    }
    const list = el("ul", { class: "findings" });
    j.findings.map((f) => data.findings[f]).forEach(([code, severity, message, fix]) => {
      const li = el("li", {}, el("span", { class: `sev-${severity}` }, severity), " ",
        el("code", {}, code), ` ${message}`);
      if (fix) li.append(el("br"), el("span", { class: "fix" }, `fix: ${fix}`));
      list.append(li);
    });
    findings.append(list.childElementCount ? list : el("p", { class: "muted" }, "No findings."));
    if (j.part && j.part[3] >= 0) {
      story.innerHTML = data.stories[j.part[3]]; // drawn (and escaped) by houzzflow in Python
    } else {
      story.append(el("p", { class: "muted" }, j.verdict === "p"
        ? "None: every interleaving explored keeps every invariant."
        : "None to show."));
    }
    if (j.verdict !== "p") {
      const best = nearest(mask);
      if (best) {
        const button = el("button", { id: "apply-fix", type: "button" }, "Apply these settings");
        button.addEventListener("click", () => {
          state.settings = best.settings;
          state.world = best.world;
          update();
        });
        near.append(el("b", {}, "Nearest proven settings: "),
          describeChange(best) + " ", button);
      } else {
        near.append("No proven settings nearby, even with other staff habits: "
          + "confirm the open questions with Houzz or CartRover.");
      }
    } else {
      near.append("These settings are proven for the answers chosen.");
    }
    drawGrid(mask);
  }

  // -- the grid -----------------------------------------------------------------------------

  const CW = 8, CH = 4;
  const allSettings = [...combos(settings.map((c) => c.values.length))];
  const allWorlds = [...combos(world.map((c) => c.values.length))];
  const canvas = document.getElementById("grid");
  canvas.width = allWorlds.length * CW;
  canvas.height = allSettings.length * CH;

  function drawGrid(mask) {
    const ctx = canvas.getContext("2d");
    allWorlds.forEach((w, x) => {
      allSettings.forEach((s, y) => {
        const j = judge(cellOf(s, w), mask);
        ctx.fillStyle = COLOURS[j ? j.verdict : "none"];
        ctx.fillRect(x * CW, y * CH, CW - 1, CH - 1);
      });
    });
    const x = allWorlds.findIndex((w) => distance(w, state.world) === 0);
    const y = allSettings.findIndex((s) => distance(s, state.settings) === 0);
    ctx.strokeStyle = "#0969da";
    ctx.lineWidth = 2;
    ctx.strokeRect(x * CW - 1, y * CH - 1, CW + 1, CH + 1);
  }

  function at(event) {
    const r = canvas.getBoundingClientRect();
    const x = Math.floor(((event.clientX - r.left) * canvas.width) / r.width / CW);
    const y = Math.floor(((event.clientY - r.top) * canvas.height) / r.height / CH);
    return { w: allWorlds[x], s: allSettings[y] };
  }

  function words(controls, idx) {
    return controls.map((c, k) => `${c.key}=${c.values[idx[k]]}`).join(" ");
  }

  canvas.addEventListener("click", (event) => {
    const { w, s } = at(event);
    if (!w || !s) return;
    state.world = w;
    state.settings = s;
    update();
  });
  canvas.addEventListener("mousemove", (event) => {
    const { w, s } = at(event);
    if (w && s) {
      document.getElementById("grid-hover").textContent =
        `${words(settings, s)} | ${words(world, w)}`;
    }
  });

  // -- controls and the link ----------------------------------------------------------------

  function syncControls() {
    settings.forEach((c, k) => { control(c.key).value = c.values[state.settings[k]]; });
    world.forEach((c, k) => { control(c.key).value = c.values[state.world[k]]; });
    assume.forEach((q) => { control(q.key).value = state.pins[q.key] || ""; });
  }

  function control(key) {
    return document.getElementById(`c-${key}`);
  }

  function toHash() {
    const parts = [];
    settings.forEach((c, k) => parts.push(`${c.key}=${c.values[state.settings[k]]}`));
    world.forEach((c, k) => parts.push(`${c.key}=${c.values[state.world[k]]}`));
    assume.forEach((q) => {
      if (state.pins[q.key]) parts.push(`assume.${q.key}=${state.pins[q.key]}`);
    });
    return "#" + parts.map(encodeURI).join("&");
  }

  function fromHash() {
    const pairs = new Map();
    decodeURI(location.hash.slice(1)).split("&").forEach((part) => {
      const eq = part.indexOf("=");
      if (eq > 0) pairs.set(part.slice(0, eq), part.slice(eq + 1));
    });
    const pick = (c, fallback) => {
      const i = c.values.indexOf(pairs.get(c.key));
      return i >= 0 ? i : fallback;
    };
    state.settings = settings.map((c, k) => pick(c, state.settings[k]));
    state.world = world.map((c, k) => pick(c, state.world[k]));
    state.pins = {};
    assume.forEach((q) => {
      const a = pairs.get(`assume.${q.key}`);
      if (q.values.includes(a)) state.pins[q.key] = a;
    });
  }

  function update() {
    const hash = toHash();
    if (location.hash !== hash) history.replaceState(null, "", hash);
    render();
  }

  document.querySelectorAll("select[data-group]").forEach((select) => {
    select.addEventListener("change", () => {
      const key = select.dataset.key, group = select.dataset.group;
      if (group === "assume") {
        if (select.value) state.pins[key] = select.value;
        else delete state.pins[key];
      } else {
        const controls = group === "settings" ? settings : world;
        const k = controls.findIndex((c) => c.key === key);
        state[group][k] = controls[k].values.indexOf(select.value);
      }
      update();
    });
  });
  window.addEventListener("hashchange", () => { fromHash(); render(); });
  fromHash();
  update();
})();
