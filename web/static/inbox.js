// Staff inbox: one JSON load per change, pushed by server-sent events (no polling); text via textContent.
"use strict";

const VIEWS = ["waiting", "mine", "open", "resolved"];

function minutesSince(iso) {
  return Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 60000));
}

function waited(iso) {
  const m = minutesSince(iso);
  if (m < 1) return "just now";
  if (m < 60) return m + " min";
  const h = Math.floor(m / 60);
  return h + " h " + (m % 60) + " min";
}

function startInbox(box) {
  const me = box.dataset.me;
  const rows = document.getElementById("inbox-rows");
  const channel = document.getElementById("channel");
  const label = document.getElementById("label");
  const live = document.getElementById("live-status");
  const toasts = document.getElementById("toasts");
  const params = new URLSearchParams(window.location.search);
  let view = VIEWS.includes(params.get("view")) ? params.get("view") : "open";
  channel.value = params.get("channel") || "";
  label.value = params.get("label") || "";
  let last = { items: [], desk: null };
  let loading = null;

  function query() {
    const q = new URLSearchParams({ view });
    if (channel.value) q.set("channel", channel.value);
    if (label.value.trim()) q.set("label", label.value.trim());
    return q;
  }

  function row(c) {
    const overdue = c.waiting_since && last.desk && minutesSince(c.waiting_since) >= last.desk.unanswered_minutes;
    const tr = el("tr", null, "status-" + c.status + (overdue ? " overdue" : ""));
    tr.dataset.id = c.id;
    const who = el("td", null, "customer");
    const link = el("a", c.customer);
    link.href = "/staff/conversations/" + encodeURIComponent(c.id);
    who.appendChild(link);
    const status = el("td");
    status.appendChild(el("span", c.status === "closed" ? "resolved" : c.status, "badge"));
    const wait = el("td", c.waiting_since ? waited(c.waiting_since) : "–");
    if (overdue) {
      const flag = el("span", "overdue", "flag");
      flag.title = "unanswered for more than " + last.desk.unanswered_minutes + " minutes";
      wait.appendChild(flag);
    }
    const unread = el("td");
    unread.appendChild(el("span", c.unread, "unread" + (c.unread ? "" : " zero")));
    if (c.unread) unread.firstChild.setAttribute("aria-label", c.unread + " unread");
    const tags = el("td");
    c.labels.forEach((name) => tags.appendChild(el("span", name, "chip")));
    if (c.csat) tags.appendChild(el("span", "CSAT " + c.csat + "/5", "chip"));
    const act = el("td");
    if (c.status !== "closed" && String(c.assigned_staff_id) !== me) {
      const take = el("button", "Assign to me", "small");
      take.type = "button";
      take.addEventListener("click", () => assign(c.id, take));
      act.appendChild(take);
    }
    tr.append(who, el("td", c.channel), status, wait, unread, el("td", c.assigned_to || "–"), tags,
      el("td", (c.last_role ? c.last_role + ": " : "") + c.last_message, "preview"), act);
    return tr;
  }

  function render() {
    const items = last.items.map(row);
    if (!items.length) {
      const tr = el("tr", null, "empty");
      const td = el("td", view === "waiting" ? "Nobody is waiting for a person." : "No conversation here.");
      td.colSpan = 9;
      tr.appendChild(td);
      items.push(tr);
    }
    rows.replaceChildren(...items);
    document.querySelectorAll("[data-count]").forEach((n) => {
      const count = last.counts ? last.counts[n.dataset.count] : null;
      n.textContent = count ? String(count) : "";
    });
    const desk = document.getElementById("desk-status");
    if (last.desk) {
      desk.replaceChildren();
      const state = last.desk.live ? "a person can answer now" :
        (last.desk.reason === "closed" ? "outside business hours" : "nobody online");
      desk.append(el("span", state, last.desk.live ? "" : "closed"),
        " · hours " + last.desk.hours + " · flag after " + last.desk.unanswered_minutes + " min");
    }
  }

  async function load() {
    if (loading) return loading;
    loading = (async () => {
      try {
        const { ok, data } = await requestJson("GET", "/api/inbox/conversations?" + query().toString());
        if (ok) { last = data; render(); }
      } finally {
        loading = null;
      }
    })();
    return loading;
  }

  async function assign(id, button) {
    button.disabled = true;
    const { ok, data } = await requestJson("POST", "/api/inbox/conversations/" + encodeURIComponent(id) + "/assign");
    if (!ok) toast(typeof data.detail === "string" ? data.detail : "could not assign");
    await load();
  }

  function toast(text, id) {
    const note = el("div", null, "toast");
    if (id) {
      const a = el("a", text);
      a.href = "/staff/conversations/" + encodeURIComponent(id);
      note.appendChild(a);
    } else {
      note.textContent = text;
    }
    toasts.prepend(note);
    while (toasts.children.length > 4) toasts.lastChild.remove();
    setTimeout(() => note.remove(), 60000);
  }

  function setView(next) {
    view = next;
    document.querySelectorAll("#views button").forEach((b) => {
      b.classList.toggle("active", b.dataset.view === view);
      b.setAttribute("aria-pressed", String(b.dataset.view === view));
    });
    history.replaceState(null, "", "/staff/inbox?" + query().toString());
    load();
  }

  document.querySelectorAll("#views button").forEach((b) => b.addEventListener("click", () => setView(b.dataset.view)));
  channel.addEventListener("change", () => setView(view));
  label.addEventListener("change", () => setView(view));

  // The live feed: the server pushes; the page reloads its JSON only when something changed.
  let pendingReload = null;
  const source = new EventSource("/api/inbox/events");
  source.addEventListener("open", () => { live.textContent = "live"; live.className = "live-status on"; });
  source.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "live-status off"; });
  source.addEventListener("inbox", (e) => {
    const event = JSON.parse(e.data);
    if (event.kind === "handoff") {
      toast((event.customer || "A customer") + " (" + (event.channel || "web") + ") asks for a person" +
        (event.away ? " — told nobody is available right now" : ""), event.conversation_id);
    } else if (event.kind === "email") {
      toast((event.customer || "A customer") + " left an email address", event.conversation_id);
    }
    clearTimeout(pendingReload);
    pendingReload = setTimeout(load, 150);
  });
  // Waiting times and the overdue flag age on the client clock, between pushes.
  setInterval(render, 30000);
  window.switchboardInbox = { source, load };
  setView(view);
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("inbox");
  if (box) startInbox(box);
});
