// The live page: renders what the server folds from a run's journal.
// `/` lists the runs; `/runs/RUN_ID` shows one, kept current by the
// server-sent events of `/api/runs/RUN_ID/events` (a `state` event is the
// whole state after each batch of journal lines). No framework: the state
// is drawn into strings of HTML and SVG, once per event.
"use strict";

const params = new URLSearchParams(location.search);
const token = params.get("token");
const key = params.get("key");
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const ms = (n) => {
  if (n == null) return "-";
  if (n < 1000) return n + "ms";
  const s = n / 1000;
  if (s < 60) return s.toFixed(1) + "s";
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${Math.round(s % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
};
const usd = (n) => "$" + (n || 0).toFixed(2);
const utc = (t) => (t ? new Date(t).toISOString().slice(0, 16).replace("T", " ") : "-");
const label = (status) => status.replace("_", " ");

let current = null;   // the run's state
let openPart = null;  // the part whose detail is shown

function fail(message) {
  $("error").hidden = false;
  $("error").textContent = message;
}

async function getJson(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// ---- the index ---------------------------------------------------------

async function showRuns() {
  $("runs").hidden = false;
  $("title").textContent = "runs";
  try {
    const runs = await getJson("/api/runs" + (key ? "?key=" + encodeURIComponent(key) : ""));
    $("no-runs").hidden = runs.length > 0;
    $("run-rows").innerHTML = runs.reverse().map((r) => {
      const href = "/runs/" + encodeURIComponent(r.id) + (r.token ? "?token=" + r.token : "");
      return `<tr data-run="${esc(r.id)}" data-phase="${esc(r.phase)}"><td><a href="${href}">${esc(r.id)}</a></td>` +
        `<td>${utc(r.started_at)}</td><td><span class="status st-${esc(r.phase)}">${label(r.phase)}</span></td>` +
        `<td>${r.done}/${r.tasks}</td><td>${r.failed}</td><td>${usd(r.cost_usd)}</td><td>${ms(r.duration_ms)}</td><td>${esc(r.score)}</td></tr>`;
    }).join("");
    window.scoreFirstDrawnMs ??= performance.now();
  } catch (e) { fail(e.message); }
}

// ---- one run -------------------------------------------------------------

function showRun(id) {
  $("run").hidden = false;
  $("title").textContent = id;
  const events = new EventSource("/api/runs/" + encodeURIComponent(id) + "/events");
  events.addEventListener("state", (e) => {
    current = JSON.parse(e.data);
    $("live").textContent = current.phase === "running" ? "live" : "";
    render();
  });
  events.onerror = () => {
    // The server went away (the run's process ended): keep what was shown.
    if (events.readyState === EventSource.CLOSED || current) {
      $("live").textContent = "disconnected: the page shows the journal as last read";
      events.close();
    }
  };
}

function render() {
  const s = current;
  const phase = $("phase");
  phase.dataset.phase = s.phase;
  phase.textContent = label(s.phase);
  document.title = `score: ${s.score} ${s.id} (${label(s.phase)})`;
  renderTotals(s);
  renderApprovals(s);
  renderDag(s);
  renderGantt(s);
  renderTable(s);
  if (openPart) showPart(openPart, false);
  // When the first state was drawn, in ms since the navigation started
  // (read by benches/ui.rs).
  window.scoreFirstDrawnMs ??= performance.now();
}

function meter(used, budget) {
  if (budget == null) return "";
  const ratio = budget > 0 ? used / budget : 1;
  return `<span class="meter${ratio > 1 ? " over" : ""}"><div style="width:${Math.min(100, ratio * 100).toFixed(1)}%"></div></span>`;
}

function renderTotals(s) {
  const t = s.totals;
  const tokens = t.tokens_in + t.tokens_out;
  const duration = s.started_at ? (s.ended_at || s.last_at) - s.started_at : null;
  $("totals").innerHTML =
    `<span><b id="done-count">${t.done}</b>/${s.parts.length} done, <b>${t.failed}</b> failed, ${t.skipped} skipped, ${t.running} running, ${t.awaiting_approval} awaiting approval</span>` +
    `<span>tokens ${tokens}${t.budget_tokens != null ? " of " + t.budget_tokens : ""} ${meter(tokens, t.budget_tokens)}</span>` +
    `<span>cost ${usd(t.cost_usd)}${t.budget_usd != null ? " of " + usd(t.budget_usd) : ""} ${meter(t.cost_usd, t.budget_usd)}</span>` +
    `<span>started ${utc(s.started_at)} UTC, ${ms(duration)}${s.resumed ? `, resumed ${s.resumed}×` : ""}</span>` +
    (s.budget_message ? `<span class="status st-failed">${esc(s.budget_message)}</span>` : "");
}

function renderApprovals(s) {
  const waiting = s.parts.filter((p) => p.status === "awaiting_approval" && !p.approved_by);
  $("approvals").innerHTML = waiting.map((p) =>
    `<div class="ask" data-part="${esc(p.id)}"><b>${esc(p.id)}</b> waits for the approval of ${esc(p.approver || "someone")}` +
    (token
      ? `<button class="approve" data-part="${esc(p.id)}">Approve</button><button class="reject" data-part="${esc(p.id)}">Reject</button>`
      : ` (open the URL with the run's token to answer, or <code>score approve ${esc(s.id)} ${esc(p.id)}</code>)`) +
    `</div>`).join("");
  for (const button of $("approvals").querySelectorAll("button")) {
    button.onclick = () => answer(button.dataset.part, button.classList.contains("approve"));
  }
}

async function answer(part, approve) {
  try {
    const url = `/api/runs/${encodeURIComponent(current.id)}/parts/${encodeURIComponent(part)}/${approve ? "approve" : "reject"}?token=${encodeURIComponent(token)}`;
    const body = await getJson(url, { method: "POST" });
    // The next state may have redrawn the question already.
    const ask = $("approvals").querySelector(`.ask[data-part="${CSS.escape(part)}"]`);
    if (ask) ask.textContent = body.message;
  } catch (e) { fail(e.message); }
}

// The DAG: one column per wave, parts in plan order; edges from each
// dependency. Thick outline: the planned critical path; thick edges: the
// critical path as run.
function renderDag(s) {
  const W = 230, H = 36, GX = 50, GY = 10;
  const waves = new Map();
  for (const p of s.parts) {
    if (!waves.has(p.wave)) waves.set(p.wave, []);
    waves.get(p.wave).push(p);
  }
  const pos = new Map();
  let rows = 0;
  for (const [wave, parts] of waves) {
    parts.forEach((p, row) => pos.set(p.id, { x: 10 + wave * (W + GX), y: 24 + row * (H + GY) }));
    rows = Math.max(rows, parts.length);
  }
  const width = 20 + waves.size * (W + GX), height = 34 + rows * (H + GY);
  const planned = new Set(s.critical_path);
  const runPath = s.critical_path_run;
  const runEdges = new Set(runPath.slice(1).map((id, i) => runPath[i] + "→" + id));
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`;
  for (const wave of waves.keys()) svg += `<text x="${10 + wave * (W + GX)}" y="14">wave ${wave + 1}</text>`;
  for (const p of s.parts) {
    const b = pos.get(p.id);
    for (const d of p.depends_on) {
      const a = pos.get(d);
      if (!a) continue;
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
      svg += `<path class="edge${runEdges.has(d + "→" + p.id) ? " run" : ""}" d="M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}"/>`;
    }
  }
  for (const p of s.parts) {
    const { x, y } = pos.get(p.id);
    const tokens = p.tokens_in + p.tokens_out;
    svg += `<g class="node${planned.has(p.id) ? " critical" : ""}" data-part="${esc(p.id)}" data-status="${p.status}" transform="translate(${x},${y})">` +
      `<title>${esc(p.id)}: ${label(p.status)}${p.last_failure ? " — " + esc(p.last_failure.message.split("\n")[0]) : ""}</title>` +
      `<rect width="${W}" height="${H}" rx="5" fill="var(--${p.status})"/>` +
      // Two lines a part: a thousand parts stay a light DOM.
      `<text x="6" y="14" font-weight="bold">${esc(p.id.length > 28 ? p.id.slice(0, 27) + "…" : p.id)}</text>` +
      `<text x="6" y="29">${label(p.status)}${p.attempt > 1 ? " #" + p.attempt : ""} · ${esc(p.agent)} · ${ms(p.elapsed_ms)} · ${tokens} tok · ${usd(p.cost_usd)}</text></g>`;
  }
  $("dag").innerHTML = svg + "</svg>";
  for (const node of $("dag").querySelectorAll(".node")) node.onclick = () => showPart(node.dataset.part, true);
}

// The timeline: one row per agent, one bar per attempt.
function renderGantt(s) {
  const attempts = s.parts.flatMap((p) => p.attempts.map((a) => ({ ...a, part: p.id })));
  if (!attempts.length) { $("gantt").innerHTML = "<p>No attempt yet.</p>"; return; }
  const start = Math.min(...attempts.map((a) => a.started_at));
  const now = Math.max(s.last_at || 0, ...attempts.map((a) => a.ended_at || a.started_at));
  const end = Math.max(now, start + 1);
  const agents = [...new Set(attempts.map((a) => a.agent))].sort();
  const LW = 110, W = 900, RH = 22;
  const x = (t) => LW + ((t - start) / (end - start)) * W;
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${LW + W + 20}" height="${agents.length * RH + 24}">`;
  svg += `<text x="${LW}" y="12">0</text><text x="${LW + W - 40}" y="12">${ms(end - start)}</text>`;
  agents.forEach((agent, row) => {
    const y = 18 + row * RH;
    svg += `<text x="4" y="${y + 14}">${esc(agent)}</text>`;
    for (const a of attempts.filter((a) => a.agent === agent)) {
      const colour = a.failure ? "var(--failed)" : a.ended_at ? "var(--done)" : "var(--running)";
      const x1 = x(a.started_at), x2 = Math.max(x(a.ended_at || now), x1 + 2);
      svg += `<rect class="bar" data-part="${esc(a.part)}" x="${x1}" y="${y}" width="${x2 - x1}" height="${RH - 6}" fill="${colour}" opacity=".85"><title>${esc(a.part)} attempt ${a.attempt}: ${ms((a.ended_at || now) - a.started_at)}${a.failure ? " — " + esc(a.failure.kind) : ""}</title></rect>`;
    }
  });
  $("gantt").innerHTML = svg + "</svg>";
}

function renderTable(s) {
  $("parts").tBodies[0].innerHTML = s.parts.map((p) =>
    `<tr data-part="${esc(p.id)}" data-status="${p.status}"><td>${esc(p.id)}</td><td><span class="status st-${p.status}">${label(p.status)}</span></td>` +
    `<td>${esc(p.agent)}</td><td>${p.attempt}</td><td>${ms(p.elapsed_ms)}</td><td>${p.tokens_in + p.tokens_out}</td><td>${usd(p.cost_usd)}</td>` +
    `<td>${esc(p.last_failure ? p.last_failure.kind + ": " + p.last_failure.message.split("\n")[0] : p.skip_reason || "")}</td></tr>`).join("");
  for (const row of $("parts").tBodies[0].rows) row.onclick = () => showPart(row.dataset.part, true);
}

// ---- a part's detail -----------------------------------------------------

const pre = (title, text) => (text ? `<h4>${title}</h4><pre>${esc(text)}</pre>` : "");
const list = (title, items) => (items && items.length ? `<h4>${title}</h4><ul>${items.map((i) => `<li><code>${esc(i)}</code></li>`).join("")}</ul>` : "");

async function showPart(id, scroll) {
  openPart = id;
  try {
    const d = await getJson(`/api/runs/${encodeURIComponent(current.id)}/parts/${encodeURIComponent(id)}`);
    const p = d.part, c = d.contract;
    let html = `<button class="close">close</button><h3>${esc(p.id)} <span class="status st-${p.status}">${label(p.status)}</span></h3>`;
    html += `<p>agent ${esc(p.agent)}, attempt ${p.attempt}, ${ms(p.elapsed_ms)}, ${p.tokens_in + p.tokens_out} tokens, ${usd(p.cost_usd)}` +
      (p.cached_from ? `, cached from run ${esc(p.cached_from)}` : "") + (p.approved_by ? `, approved by ${esc(p.approved_by)}` : "") +
      (p.rejected_by ? `, rejected by ${esc(p.rejected_by)}` : "") + `</p>`;
    if (p.last_failure) html += pre("Last failure (" + esc(p.last_failure.kind) + ")", p.last_failure.message);
    if (p.skip_reason) html += pre("Skipped", p.skip_reason);
    if (c) {
      html += `<h4>Contract</h4>` + (c.doc ? `<p>${esc(c.doc)}</p>` : "");
      html += list("Owns", c.owns) + list("Reads", c.reads) + list("Serves", c.intents) + list("Outputs", c.outputs) +
        list("Ensures", c.postconditions) + list("Checks", c.checks);
      for (const k of c.contracts) html += list(`Contract ${k.name}: ensures`, k.ensures);
      html += `<p>retries ${c.retries}, timeout ${ms(c.timeout_ms)}${c.approve ? ", approved by " + esc(c.approve) : ""}</p>`;
      html += pre("Prompt (as planned)", c.prompt);
    }
    for (const a of d.attempts) {
      html += `<h3 class="attempt" data-attempt="${a.attempt}">Attempt ${a.attempt} <small>${esc(a.agent)}, ${a.ended_at ? ms(a.ended_at - a.started_at) : "playing"}</small></h3>`;
      if (a.failure) html += pre("Failed (" + esc(a.failure.kind) + ")", a.failure.message);
      if (a.rolled_back.length) html += `<div class="violations">` + list("Boundary violation: rolled back", a.rolled_back) + `</div>`;
      html += pre("Prompt", a.prompt) + pre("Output", a.output) + pre("stdout (tail)", a.stdout) + pre("stderr (tail)", a.stderr);
      for (const check of a.checks) html += pre("Check " + esc(check.check), [check.stdout, check.stderr].filter(Boolean).join("\n"));
    }
    if (p.outputs) html += pre("Outputs", JSON.stringify(p.outputs, null, 2));
    html += pre("Committed diff", d.diff);
    const panel = $("detail");
    const top = panel.scrollTop;
    panel.innerHTML = html;
    panel.hidden = false;
    if (!scroll) panel.scrollTop = top; else panel.scrollTop = 0;
    panel.querySelector(".close").onclick = () => { panel.hidden = true; openPart = null; };
  } catch (e) { fail(e.message); }
}

// ---- start -----------------------------------------------------------------

const match = location.pathname.match(/^\/runs\/([^/]+)$/);
if (match) showRun(decodeURIComponent(match[1])); else showRuns();
