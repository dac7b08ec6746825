// The transcript's inbox panel: assign, resolve, labels, internal notes, canned replies, read marks.
// Live: the inbox's server-sent events (which also keep this staff member "online" for hand-offs).
"use strict";

function startPanel(panel) {
  const id = panel.dataset.id;
  const me = panel.dataset.me;
  const base = "/api/inbox/conversations/" + encodeURIComponent(id);
  const errorBox = document.getElementById("panel-error");
  const assignTo = document.getElementById("assign-to");

  async function call(method, url, body) {
    errorBox.textContent = "";
    const { ok, data } = await requestJson(method, url, body);
    if (!ok) {
      const d = data.detail;
      errorBox.textContent = typeof d === "string" ? d : (d && d.errors ? Object.values(d.errors).join("; ") : "failed");
      return null;
    }
    return data;
  }

  function renderLabels(labels) {
    const box = document.getElementById("labels");
    box.replaceChildren(...labels.map((name) => {
      const chip = el("span", name, "chip");
      const x = el("button", "×");
      x.type = "button";
      x.setAttribute("aria-label", "remove label " + name);
      x.addEventListener("click", async () => {
        const data = await call("DELETE", base + "/labels/" + encodeURIComponent(name));
        if (data) renderLabels(data.labels);
      });
      chip.appendChild(x);
      return chip;
    }));
    if (!labels.length) box.appendChild(el("span", "none yet", "internal"));
  }

  function renderNotes(notes) {
    document.getElementById("notes").replaceChildren(...notes.map((n) => {
      const li = el("li");
      // UTC like the transcript's own times, so a note lines up with the messages around it.
      const when = new Date(n.created_at).toISOString().slice(0, 19).replace("T", " ") + " UTC";
      li.append(el("div", (n.staff || "staff") + " · " + when, "head"),
        el("div", n.text, "text"));
      return li;
    }));
  }

  async function loadPanel() {
    const data = await call("GET", base);
    if (!data) return;
    document.getElementById("customer-label").textContent = data.customer;
    document.getElementById("customer-channel").textContent = data.channel;
    document.getElementById("customer-email").textContent = data.contact_email ? "· " + data.contact_email : "";
    document.getElementById("resolve").hidden = data.status === "closed";
    if (data.assigned_staff_id != null) assignTo.value = String(data.assigned_staff_id);
    renderLabels(data.labels);
    renderNotes(data.notes);
  }

  async function loadStaff() {
    const data = await call("GET", "/api/inbox/staff");
    if (!data) return;
    assignTo.replaceChildren(...data.staff.map((u) => {
      const o = el("option", u.username + (String(u.id) === me ? " (me)" : "") + (u.online ? " · online" : ""));
      o.value = u.id;
      return o;
    }));
    assignTo.value = me;
  }

  async function loadCanned() {
    const select = document.getElementById("canned");
    if (!select) return;
    const data = await call("GET", "/api/inbox/canned");
    if (!data) return;
    const first = el("option", data.canned.length ? "insert…" : "none yet (operators add them)");
    first.value = "";
    select.replaceChildren(first, ...data.canned.map((c) => {
      const o = el("option", "/" + c.shortcut + " — " + c.text.slice(0, 60));
      o.value = c.text;
      return o;
    }));
    select.addEventListener("change", () => {
      const box = document.getElementById("reply-text");
      if (!select.value || !box) return;
      const at = box.selectionStart == null ? box.value.length : box.selectionStart;
      box.value = box.value.slice(0, at) + select.value + box.value.slice(box.selectionEnd == null ? at : box.selectionEnd);
      select.value = "";
      box.focus();
    });
  }

  let readTimer = null;
  function markRead() {
    clearTimeout(readTimer);
    readTimer = setTimeout(() => requestJson("POST", base + "/read"), 300);
  }

  document.getElementById("assign").addEventListener("click", async () => {
    if (await call("POST", base + "/assign", { staff_id: Number(assignTo.value) })) loadPanel();
  });
  document.getElementById("resolve").addEventListener("click", async () => {
    const data = await call("POST", base + "/resolve");
    if (data) {
      const status = document.getElementById("status");
      if (status) status.textContent = data.status;
      loadPanel();
    }
  });
  document.getElementById("label-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = document.getElementById("label-input");
    const data = await call("POST", base + "/labels", { label: input.value });
    if (data) { renderLabels(data.labels); input.value = ""; }
  });
  document.getElementById("note-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = document.getElementById("note-text");
    const data = await call("POST", base + "/notes", { text: text.value });
    if (data) { renderNotes(data.notes); text.value = ""; }
  });
  const messages = document.getElementById("messages");
  if (messages) new MutationObserver(markRead).observe(messages, { childList: true });
  const source = new EventSource("/api/inbox/events");
  source.addEventListener("inbox", (e) => {
    const event = JSON.parse(e.data);
    if (event.conversation_id === id && event.kind !== "message") loadPanel();
  });
  loadStaff().then(loadPanel);
  loadCanned();
  markRead();
}

document.addEventListener("DOMContentLoaded", () => {
  const panel = document.getElementById("inbox-panel");
  if (panel) startPanel(panel);
});
