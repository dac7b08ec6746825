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

function drawChart(svg, seriesByIntent, key) {
  const W = 420, H = 160, L = 40, B = 20, T = 8;
  const all = Object.values(seriesByIntent).flat().map((p) => p[key] || 0);
  const max = Math.max(1, ...all);
  const nodes = [svgNode("line", { x1: L, y1: H - B, x2: W, y2: H - B, class: "axis" }),
    svgNode("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" })];
  const label = svgNode("text", { x: 2, y: T + 10, class: "tick" });
  label.textContent = max >= 100 ? Math.round(max) : max.toFixed(1);
  nodes.push(label);
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
  drawChart(document.getElementById("chart-requests"), series, "requests");
  drawChart(document.getElementById("chart-p95"), series, "p95_latency_ms");
  drawChart(document.getElementById("chart-tps"), series, "tokens_per_s");
  const legend = document.getElementById("legend");
  legend.replaceChildren(...Object.keys(series).map((i) => {
    const span = el("span", "■ " + i);
    span.style.color = COLORS[i] || "#888";
    return span;
  }));
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("#intent-tabs button").forEach((b) => b.addEventListener("click", () => selectIntent(b.dataset.intent)));
  form.elements.strategy.addEventListener("change", markUsed);
  document.getElementById("reset").addEventListener("click", () => fillForm(state.live[state.intent].policy));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const res = await api("PUT", "/api/operator/policies/" + state.intent,
      { policy: readForm(), comment: form.elements.comment.value });
    await afterSave(res, "saved");
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
