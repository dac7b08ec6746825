// Operator console: per-intent decoding editor, try-it, history/rollback, and SVG charts of live figures.
"use strict";

const NUMBER_FIELDS = ["temperature", "top_p", "top_k", "num_beams", "length_penalty", "repetition_penalty",
  "max_new_tokens", "router_threshold", "ambiguity_threshold", "priority"];
const INTEGER_FIELDS = new Set(["top_k", "num_beams", "max_new_tokens", "priority"]);
const COLORS = { general: "#2f6fdb", tech_support: "#d9822b", sales: "#2e9d5b" };
// Which fields matter for each strategy; the others are greyed out (still saved, ignored by the engine).
const USED = {
  greedy: [], beam: ["num_beams", "length_penalty"], nucleus: ["temperature", "top_p"],
  top_k: ["temperature", "top_k"], sampling: ["temperature"],
};
const STRATEGY_FIELDS = ["temperature", "top_p", "top_k", "num_beams", "length_penalty"];

// Values that reach every customer of the intent at once and rarely help: the operator confirms them.
const RISKY = [
  [(p) => p.strategy !== "greedy" && p.strategy !== "beam" && p.temperature > 1.5,
    (p) => "temperature " + p.temperature + " (above 1.5 replies turn incoherent)"],
  [(p) => p.repetition_penalty > 1.5, (p) => "repetition_penalty " + p.repetition_penalty + " (above 1.5 distorts answers)"],
  [(p) => p.strategy === "nucleus" && p.top_p < 0.3, (p) => "top_p " + p.top_p + " (below 0.3 is nearly greedy, with randomness)"],
  [(p) => p.max_new_tokens > 1024, (p) => "max_new_tokens " + p.max_new_tokens + " (long replies hold the engine for everyone)"],
  [(p) => p.strategy === "beam" && p.num_beams > 4, (p) => "num_beams " + p.num_beams + " (each beam makes every reply slower)"],
];

// null when nothing is risky, else the warning the operator must accept before it goes live.
function riskWarning(policy, intent) {
  const reasons = RISKY.filter(([risky]) => risky(policy)).map(([, why]) => why(policy));
  if (!reasons.length) return null;
  return "This goes live for every " + intent + " customer with the next message:\n- " + reasons.join("\n- ") +
    "\n\nSave anyway?";
}

const state = { intent: null, live: JSON.parse(document.getElementById("live-policies").textContent) };
const form = document.getElementById("policy-form");

const api = requestJson;

function showErrors(scope, errors) {
  scope.querySelectorAll(".field-error").forEach((span) => {
    span.textContent = (errors && errors[span.dataset.errorFor]) || "";
  });
  scope.querySelectorAll("[name]").forEach((input) => {
    input.classList.toggle("invalid", Boolean(errors && errors[input.name]));
  });
}

function fillForm(policy) {
  form.elements.strategy.value = policy.strategy;
  for (const name of NUMBER_FIELDS) form.elements[name].value = policy[name] ?? "";
  form.elements.stop.value = (policy.stop || []).join("\n");
  form.elements.system_prompt.value = policy.system_prompt || "";
  form.elements.comment.value = "";
  showErrors(form, null);
  markUsed();
}

const OPTIONAL_FIELDS = new Set(["router_threshold", "ambiguity_threshold"]);

function readForm() {
  const policy = { strategy: form.elements.strategy.value };
  for (const name of NUMBER_FIELDS) {
    const raw = form.elements[name].value.trim();
    // Sent as typed when it is not a number, so the server names the field instead of guessing.
    // An empty router threshold means "the router's calibrated value" (null), not a typo.
    if (raw === "" && OPTIONAL_FIELDS.has(name)) { policy[name] = null; continue; }
    const value = raw === "" ? raw : Number(raw);
    policy[name] = Number.isNaN(value) ? raw : value;
    if (INTEGER_FIELDS.has(name) && typeof policy[name] === "number" && !Number.isInteger(policy[name])) {
      policy[name] = raw;
    }
  }
  policy.stop = form.elements.stop.value.split("\n").filter((line) => line !== "");
  policy.system_prompt = form.elements.system_prompt.value;
  return policy;
}

function markUsed() {
  const used = USED[form.elements.strategy.value] || [];
  for (const name of STRATEGY_FIELDS) {
    form.querySelector('[data-field="' + name + '"]').classList.toggle("unused", !used.includes(name));
  }
}

async function loadHistory() {
  const res = await api("GET", "/api/operator/policies/" + state.intent + "/history");
  const tbody = document.getElementById("history");
  const rows = (res.ok ? res.data : []).map((v, index) => {
    const tr = el("tr");
    const button = el("button", index === 0 ? "live" : "roll back");
    button.type = "button";
    button.disabled = index === 0;
    button.addEventListener("click", () => rollBack(v.version));
    const action = el("td");
    action.appendChild(button);
    tr.append(el("td", "v" + v.version), el("td", new Date(v.created_at).toLocaleString()),
      el("td", v.created_by || "–"), el("td", v.policy.strategy), el("td", v.comment), action);
    return tr;
  });
  if (!rows.length) rows.push(el("tr", "No saved versions yet: the built-in default (v0) is live."));
  tbody.replaceChildren(...rows);
}

async function rollBack(version) {
  const res = await api("POST", "/api/operator/policies/" + state.intent + "/rollback", { version });
  await afterSave(res, "rolled back to v" + version);
}

async function afterSave(res, what) {
  const status = document.getElementById("save-status");
  if (!res.ok) {
    showErrors(form, res.data.errors || {});
    status.textContent = res.data.detail && typeof res.data.detail === "string" ? res.data.detail : "not saved";
    return;
  }
  state.live[state.intent] = { version: res.data.version, policy: res.data.policy };
  selectIntent(state.intent);
  status.textContent = what + ": v" + res.data.version + " is live for the next message";
}

function selectIntent(intent) {
  state.intent = intent;
  document.querySelectorAll("#intent-tabs button").forEach((b) => b.classList.toggle("active", b.dataset.intent === intent));
  document.getElementById("intent-name").textContent = intent;
  document.getElementById("live-version").textContent = "v" + state.live[intent].version;
  fillForm(state.live[intent].policy);
  loadHistory();
}

// ---- charts: one polyline per intent, drawn into an SVG with DOM calls only --------------
const SVG = "http://www.w3.org/2000/svg";
function svgNode(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

// Both axes carry a title and their end values, so a chart reads without the caption.
function drawChart(svg, seriesByIntent, key, yTitle, windowLabel) {
  const W = 420, H = 160, L = 52, B = 30, T = 8;
  const all = Object.values(seriesByIntent).flat().map((p) => p[key] || 0);
  const max = Math.max(1, ...all);
  const text = (content, attrs) => { const t = svgNode("text", attrs); t.textContent = content; return t; };
  const nodes = [svgNode("line", { x1: L, y1: H - B, x2: W, y2: H - B, class: "axis" }),
    svgNode("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }),
    text(max >= 100 ? Math.round(max) : max.toFixed(1), { x: L - 4, y: T + 8, class: "tick", "text-anchor": "end" }),
    text("0", { x: L - 4, y: H - B, class: "tick", "text-anchor": "end" }),
    text(yTitle, { x: 12, y: (H - B + T) / 2, class: "axis-title y", "text-anchor": "middle",
      transform: "rotate(-90 12 " + (H - B + T) / 2 + ")" }),
    text(windowLabel + " ago", { x: L, y: H - B + 12, class: "tick", "text-anchor": "start" }),
    text("now", { x: W - 2, y: H - B + 12, class: "tick", "text-anchor": "end" }),
    text("time", { x: (L + W) / 2, y: H - 4, class: "axis-title x", "text-anchor": "middle" })];
  for (const [intent, series] of Object.entries(seriesByIntent)) {
    if (!series.length) continue;
    const step = (W - L) / Math.max(1, series.length - 1);
    const points = series.map((p, i) => {
      const y = H - B - ((p[key] || 0) / max) * (H - B - T);
      return (L + i * step).toFixed(1) + "," + y.toFixed(1);
    });
    nodes.push(svgNode("polyline", { points: points.join(" "), fill: "none", stroke: COLORS[intent] || "#888",
      "stroke-width": 2, "data-intent": intent }));
  }
  svg.replaceChildren(...nodes);
}

async function loadStats() {
  const windowS = document.getElementById("window").value;
  const res = await api("GET", "/api/operator/stats?window_s=" + windowS + "&buckets=12");
  if (!res.ok) return;
  const fmt = (v, pct) => (v == null ? "–" : pct ? (100 * v).toFixed(1) + "%" : v);
  const rows = Object.entries(res.data.intents).map(([intent, s]) => {
    const tr = el("tr");
    tr.append(el("td", intent), el("td", s.requests), el("td", s.errors), el("td", fmt(s.p50_latency_ms)),
      el("td", fmt(s.p95_latency_ms)), el("td", fmt(s.tokens_per_s)), el("td", fmt(s.feedback_rate, true)),
      el("td", fmt(s.thumbs_up_share, true)));
    return tr;
  });
  document.getElementById("stats").replaceChildren(...rows);
  const series = Object.fromEntries(Object.entries(res.data.intents).map(([i, s]) => [i, s.series]));
  const sel = document.getElementById("window");
  const span = sel.options[sel.selectedIndex].textContent;
  drawChart(document.getElementById("chart-requests"), series, "requests", "requests", span);
  drawChart(document.getElementById("chart-p95"), series, "p95_latency_ms", "ms", span);
  drawChart(document.getElementById("chart-tps"), series, "tokens_per_s", "tokens/s", span);
  const legend = document.getElementById("legend");
  legend.replaceChildren(...Object.keys(series).map((i) => {
    // The colour is on a swatch, the name in body text: light line colours fail contrast as text.
    const swatch = el("span", null, "swatch");
    swatch.setAttribute("aria-hidden", "true");
    swatch.style.background = COLORS[i] || "#888";
    const span = el("span", null, "legend-item");
    span.append(swatch, i);
    return span;
  }));
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("#intent-tabs button").forEach((b) => b.addEventListener("click", () => selectIntent(b.dataset.intent)));
  form.elements.strategy.addEventListener("change", markUsed);
  document.getElementById("reset").addEventListener("click", () => fillForm(state.live[state.intent].policy));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const policy = readForm();
    const warning = riskWarning(policy, state.intent);
    if (warning && !window.confirm(warning)) {
      document.getElementById("save-status").textContent = "not saved: the live version is unchanged";
      return;
    }
    const res = await api("PUT", "/api/operator/policies/" + state.intent,
      { policy: policy, comment: form.elements.comment.value });
    await afterSave(res, "saved");
  });
  // The API's rollback to v0 is the built-in default; like any rollback it becomes a new version.
  document.getElementById("restore-default").addEventListener("click", async () => {
    if (!window.confirm("Make the built-in default (v0) live for every " + state.intent + " customer?")) return;
    await rollBack(0);
  });
  const tryForm = document.getElementById("try-form");
  tryForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = document.getElementById("try-result");
    out.querySelector(".text").textContent = "generating…";
    out.querySelector(".meta").textContent = "";
    const seed = tryForm.elements.seed.value.trim();
    const res = await api("POST", "/api/operator/try", { intent: state.intent, policy: readForm(),
      message: tryForm.elements.message.value, seed: seed === "" ? null : Number(seed) });
    showErrors(form, res.ok ? null : res.data.errors);
    showErrors(tryForm, res.ok ? null : res.data.errors);
    if (!res.ok) {
      out.querySelector(".text").textContent = typeof res.data.detail === "string" ? res.data.detail : "invalid draft";
      return;
    }
    const r = res.data;
    out.querySelector(".text").textContent = r.error ? "error: " + r.error : r.text;
    out.querySelector(".meta").textContent = "adapter " + (r.adapter || "base") + " · " + r.decoding.strategy + " · " +
      r.completion_tokens + " tokens · " + Math.round(r.latency_ms) + " ms · " + (r.finish_reason || "");
  });
  document.getElementById("window").addEventListener("change", loadStats);
  selectIntent(document.querySelector("#intent-tabs button").dataset.intent);
  loadStats();
  setInterval(() => { if (!document.hidden) loadStats(); }, 5000);
});
