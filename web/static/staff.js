// Staff console: live list and transcript by polling JSON; message text only ever set via textContent.
"use strict";

const POLL_MS = 3000;

async function api(method, url, body) {
  const { ok, data } = await requestJson(method, url, body);
  if (!ok) {
    const detail = data.detail;
    const message = typeof detail === "string" ? detail : JSON.stringify(detail || data);
    throw new Error(message);
  }
  return data;
}

// ---- conversation list -------------------------------------------------------------------
function votes(up, down) {
  const td = el("td");
  td.append(thumb(true, up), " · ", thumb(false, down));
  return td;
}

function renderRows(page) {
  const tbody = document.getElementById("rows");
  const rows = page.items.map((c) => {
    const tr = el("tr", null, "status-" + c.status);
    tr.dataset.id = c.id;
    const link = el("a");
    link.append(utcTime(c.last_activity));
    link.href = "/staff/conversations/" + encodeURIComponent(c.id);
    const first = el("td");
    first.appendChild(link);
    const status = el("td");
    status.appendChild(el("span", c.status, "badge"));
    tr.append(first, status, el("td", c.intent || ""), el("td", c.assigned_to || ""), el("td", c.message_count),
      votes(c.thumbs_up, c.thumbs_down), el("td", c.last_message, "preview"));
    return tr;
  });
  if (!rows.length) {
    const tr = el("tr", null, "empty");
    const td = el("td", "No conversation matches.");
    td.colSpan = 7;
    tr.appendChild(td);
    rows.push(tr);
  }
  tbody.replaceChildren(...rows);
  document.getElementById("total").textContent =
    page.total + " conversation" + (page.total === 1 ? "" : "s");
}

function startList() {
  const live = document.getElementById("live");
  const pager = document.getElementById("pager");
  const query = new URLSearchParams(window.location.search);
  query.set("page", pager.dataset.page);
  setInterval(async () => {
    if (!live.checked || document.hidden) return;
    try {
      renderRows(await api("GET", "/api/staff/conversations?" + query.toString()));
    } catch (err) {
      document.getElementById("total").textContent = "live update failed: " + err.message;
    }
  }, POLL_MS);
}

// ---- transcript --------------------------------------------------------------------------
function metaList(m) {
  const dl = el("dl", null, "meta");
  const add = (k, v) => dl.append(el("dt", k), el("dd", v));
  add("intent", (m.intent || "–") + (m.router_overridden_from ? " (router said " + m.router_overridden_from + ")" : ""));
  add("confidence", m.router_confidence == null ? "–" : Number(m.router_confidence).toFixed(2));
  add("adapter", m.adapter || "base");
  const params = Object.entries(m.decoding || {})
    .filter(([k]) => k !== "strategy" && k !== "params")
    .map(([k, v]) => k + "=" + (Array.isArray(v) ? JSON.stringify(v) : v));
  add("decoding", (m.strategy || "–") + (m.decoding_version == null ? "" : " v" + m.decoding_version) + " " + params.join(" "));
  add("tokens", (m.prompt_tokens || 0) + " in / " + (m.completion_tokens || 0) + " out");
  add("latency", (m.latency_ms == null ? "–" : Math.round(m.latency_ms)) + " ms" +
    (m.ttft_ms == null ? "" : " (first token " + Math.round(m.ttft_ms) + " ms)") +
    (m.tokens_per_s ? " · " + m.tokens_per_s + " tok/s" : ""));
  if (m.cut_short) add("finish", "cut short at max_new_tokens");
  if (m.handoff_offer) add("hand-off", "offered a person (no entry can answer this)");
  if (m.sources && m.sources.length) {
    const dd = el("dd", null, "sources");
    m.sources.forEach((s, i) => {
      if (i) dd.append(" · ");
      const a = el("a", s.title);
      a.href = "/kb/" + encodeURIComponent(s.key);
      a.title = s.key + " v" + s.version;
      dd.append(a);
    });
    dl.append(el("dt", "sources"), dd);
  }
  if (m.error) add("error", m.error);
  return dl;
}

// The same text as the server's utc_time filter: one zone (UTC) on every line, to the second.
function utcTime(iso) {
  const t = el("time", iso ? new Date(iso).toISOString().slice(0, 19).replace("T", " ") + " UTC" : "");
  if (iso) t.dateTime = iso;
  return t;
}

// "received" (customer) and "done" (replies) are every message's normal end: no badge for those.
const QUIET_STATUSES = ["done", "received"];

function renderMessage(m) {
  const li = el("li", null, "msg role-" + m.role);
  li.dataset.id = m.id;
  li.dataset.status = m.status;
  li.dataset.at = m.created_at || "";
  const head = el("div", null, "head");
  head.append(el("b", m.staff || m.role), " ", utcTime(m.created_at));
  if (!QUIET_STATUSES.includes(m.status)) head.append(" ", el("span", m.status, "badge"));
  if (m.rating) head.append(" ", thumb(m.rating > 0));
  li.append(head, el("div", m.text, "text"));
  if (m.role === "assistant") li.appendChild(metaList(m));
  return li;
}

function renderEvent(e) {
  const li = el("li", null, "event");
  li.dataset.eventId = e.id;
  li.dataset.at = e.created_at;
  li.append(utcTime(e.created_at), " " + e.text);
  return li;
}

// A hand-off event goes in before the first line that happened after it.
function placeEvents(list, events) {
  for (const e of events) {
    if (list.querySelector('li[data-event-id="' + e.id + '"]')) continue;
    const at = Date.parse(e.created_at);
    const later = Array.from(list.children).find((li) => li.dataset.at && Date.parse(li.dataset.at) > at);
    list.insertBefore(renderEvent(e), later || null);
  }
}

function startTranscript(box) {
  const id = box.dataset.id;
  const me = box.dataset.me;
  const list = document.getElementById("messages");
  const errorBox = document.getElementById("action-error");
  const form = document.getElementById("reply-form");
  const takeOver = document.getElementById("take-over");
  const handBack = document.getElementById("hand-back");

  function lastId() {
    const items = list.querySelectorAll("li[data-id]");
    return items.length ? Number(items[items.length - 1].dataset.id) : 0;
  }
  function setState(status, assignedId, assignedName) {
    box.dataset.status = status;
    box.dataset.assigned = assignedId == null ? "" : String(assignedId);
    document.getElementById("status").textContent = status;
    if (assignedName !== undefined) document.getElementById("assigned").textContent = assignedName || "nobody";
    const mine = status === "human" && box.dataset.assigned === me;
    form.hidden = !mine;
    handBack.hidden = status !== "human";
    takeOver.hidden = !(status === "pending" || status === "active");
  }
  async function refresh() {
    // Messages still streaming are replaced once they finish, so re-fetch from the oldest unfinished one.
    const pendingItem = list.querySelector('li[data-status="streaming"]');
    const after = pendingItem ? Number(pendingItem.dataset.id) - 1 : lastId();
    const t = await api("GET", "/api/staff/conversations/" + encodeURIComponent(id) + "?after=" + after);
    for (const m of t.messages) {
      const old = list.querySelector('li[data-id="' + m.id + '"]');
      if (old) old.replaceWith(renderMessage(m));
      else list.appendChild(renderMessage(m));
    }
    placeEvents(list, t.events || []);
    setState(t.status, t.assigned_staff_id, t.assigned_to);
  }
  async function act(url, body) {
    errorBox.textContent = "";
    try {
      await api("POST", url, body);
      await refresh();
    } catch (err) {
      errorBox.textContent = err.message;
    }
  }
  const base = "/api/staff/conversations/" + encodeURIComponent(id);
  takeOver.addEventListener("click", () => act(base + "/take-over"));
  handBack.addEventListener("click", () => act(base + "/hand-back"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = document.getElementById("reply-text");
    await act(base + "/reply", { text: text.value });
    if (!errorBox.textContent) text.value = "";
  });
  setState(box.dataset.status, box.dataset.assigned || null);
  setInterval(() => { if (!document.hidden) refresh().catch(() => {}); }, POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("transcript");
  if (box) startTranscript(box);
  else if (document.getElementById("rows")) startList();
});
