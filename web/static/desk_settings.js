// Operator desk settings: business hours and canned replies (text only ever set via textContent).
"use strict";

function problem(data) {
  if (data.errors) return Object.entries(data.errors).map(([k, v]) => k + ": " + v).join("; ");
  return typeof data.detail === "string" ? data.detail : "failed";
}

function startDesk() {
  const hours = document.getElementById("hours-form");
  hours.addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = new FormData(hours);
    const body = {
      timezone: form.get("timezone"),
      opens: form.get("opens"),
      closes: form.get("closes"),
      unanswered_minutes: Number(form.get("unanswered_minutes")),
      days: form.getAll("days").map(Number),
      always_open: form.get("always_open") === "on",
    };
    document.getElementById("hours-error").textContent = "";
    const { ok, data } = await requestJson("PUT", "/api/operator/desk/hours", body);
    document.getElementById("hours-status").textContent = ok ? "saved: " + data.summary : "";
    if (!ok) document.getElementById("hours-error").textContent = problem(data);
  });

  const canned = document.getElementById("canned-form");
  const cancel = document.getElementById("canned-cancel");
  function editMode(row) {
    canned.elements.id.value = row ? row.id : "";
    canned.elements.shortcut.value = row ? row.shortcut : "";
    canned.elements.text.value = row ? row.text : "";
    document.getElementById("canned-save").textContent = row ? "Save changes" : "Add canned reply";
    cancel.hidden = !row;
  }
  async function load() {
    const { data } = await requestJson("GET", "/api/operator/canned");
    const rows = (data.canned || []).map((c) => {
      const tr = el("tr");
      const actions = el("td");
      const edit = el("button", "Edit");
      edit.type = "button";
      edit.addEventListener("click", () => editMode(c));
      const del = el("button", "Delete", "danger");
      del.type = "button";
      del.addEventListener("click", async () => {
        await requestJson("DELETE", "/api/operator/canned/" + c.id);
        load();
      });
      actions.append(edit, " ", del);
      tr.append(el("td", "/" + c.shortcut), el("td", c.text, "text"), actions);
      return tr;
    });
    if (!rows.length) {
      const tr = el("tr", null, "empty");
      const td = el("td", "No canned replies yet.");
      td.colSpan = 3;
      tr.appendChild(td);
      rows.push(tr);
    }
    document.getElementById("canned-rows").replaceChildren(...rows);
  }
  cancel.addEventListener("click", () => editMode(null));
  canned.addEventListener("submit", async (e) => {
    e.preventDefault();
    const id = canned.elements.id.value;
    const body = { shortcut: canned.elements.shortcut.value, text: canned.elements.text.value };
    const { ok, data } = await requestJson(id ? "PUT" : "POST", "/api/operator/canned" + (id ? "/" + id : ""), body);
    document.getElementById("canned-error").textContent = ok ? "" : problem(data);
    document.getElementById("canned-status").textContent = ok ? "saved /" + data.shortcut : "";
    if (ok) { editMode(null); load(); }
  });
  load();
}

document.addEventListener("DOMContentLoaded", startDesk);
