// Operator console for the knowledge base: search, edit, delete, history/rollback, gap report.
// Every value from the server reaches the page through el()/textContent (console.js).
"use strict";

const KB = "/api/operator/knowledge";
const kb = { key: null, page: 1, total: 0 };
const kbForm = document.getElementById("kb-form");
const FIELDS = ["key", "kind", "title", "text", "keywords", "note"];

function entryUrl(key) { return KB + "/" + encodeURIComponent(key); }

function showFieldErrors(errors) {
  kbForm.querySelectorAll(".field-error").forEach((span) => {
    span.textContent = (errors && errors[span.dataset.errorFor]) || "";
  });
  for (const name of FIELDS) kbForm.elements[name].classList.toggle("invalid", Boolean(errors && errors[name]));
}

function setStatus(text) { document.getElementById("kb-status").textContent = text; }

async function search(page) {
  const form = document.getElementById("kb-search");
  const query = new URLSearchParams({ q: form.elements.q.value, kind: form.elements.kind.value, page: String(page) });
  if (form.elements.include_deleted.checked) query.set("include_deleted", "true");
  const res = await requestJson("GET", KB + "?" + query.toString());
  if (!res.ok) { document.getElementById("kb-total").textContent = "search failed: " + (res.data.detail || res.status); return; }
  kb.page = res.data.page;
  kb.total = res.data.total;
  const rows = res.data.items.map((e) => {
    const tr = el("tr", null, e.deleted ? "deleted" : "");
    tr.dataset.key = e.key;
    tr.classList.toggle("selected", e.key === kb.key);
    tr.append(el("td", e.key), el("td", e.kind), el("td", e.title), el("td", "v" + e.version), el("td", e.updated_by || "–"));
    tr.addEventListener("click", () => openEntry(e.key));
    return tr;
  });
  if (!rows.length) rows.push(el("tr", "No entry matches."));
  document.getElementById("kb-rows").replaceChildren(...rows);
  document.getElementById("kb-total").textContent = kb.total + " entr" + (kb.total === 1 ? "y" : "ies");
  document.getElementById("kb-prev").disabled = kb.page <= 1;
  document.getElementById("kb-next").disabled = kb.page * 50 >= kb.total;
}

function fill(entry) {
  kbForm.elements.key.value = entry ? entry.key : "";
  kbForm.elements.key.readOnly = Boolean(entry); // sources point at keys, so a key never changes
  kbForm.elements.kind.value = entry ? entry.kind : "product";
  kbForm.elements.title.value = entry ? entry.title : "";
  kbForm.elements.text.value = entry ? entry.text : "";
  kbForm.elements.keywords.value = entry ? entry.keywords.join(", ") : "";
  kbForm.elements.note.value = "";
  showFieldErrors(null);
  const title = document.getElementById("kb-editor-title");
  title.textContent = entry ? entry.key + " · live v" + entry.version + (entry.deleted ? " (deleted)" : "") : "New entry";
  document.getElementById("kb-delete").hidden = !entry || entry.deleted;
  const link = document.getElementById("kb-public");
  link.hidden = !entry || entry.deleted;
  if (entry) link.href = "/kb/" + encodeURIComponent(entry.key);
}

function renderHistory(versions) {
  const rows = versions.map((v, index) => {
    const tr = el("tr");
    const button = el("button", index === 0 ? "live" : "roll back");
    button.type = "button";
    button.disabled = index === 0;
    button.addEventListener("click", () => rollBack(v.version));
    const action = el("td");
    action.appendChild(button);
    const what = el("td", null, "snippet");
    what.append(el("b", v.deleted ? "(deleted) " + v.title : v.title), el("br"), el("span", v.text.slice(0, 140)));
    tr.append(el("td", "v" + v.version), el("td", new Date(v.created_at).toLocaleString()),
      el("td", v.created_by || "–"), el("td", v.note), what, action);
    return tr;
  });
  document.getElementById("kb-history").replaceChildren(...rows);
}

async function openEntry(key) {
  const res = await requestJson("GET", entryUrl(key));
  if (!res.ok) { setStatus(res.data.detail || "could not open " + key); return; }
  kb.key = key;
  fill(res.data.entry);
  renderHistory(res.data.history);
  setStatus("");
  document.querySelectorAll("#kb-rows tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.key === key));
}

function newEntry() {
  kb.key = null;
  fill(null);
  renderHistory([]);
  setStatus("");
  kbForm.elements.key.focus();
}

function readEntry() {
  const entry = {};
  for (const name of ["key", "kind", "title", "text", "keywords"]) entry[name] = kbForm.elements[name].value;
  return entry;
}

async function afterChange(res, what) {
  if (!res.ok) {
    showFieldErrors(res.data.errors || {});
    setStatus(typeof res.data.detail === "string" ? res.data.detail : "not saved");
    return;
  }
  const entry = res.data.entry;
  await openEntry(entry.key);
  setStatus(what + ": v" + entry.version + (entry.deleted
    ? " — replies no longer use it (roll back to restore it)" : " is live for the next reply"));
  await search(kb.page);
}

async function save(event) {
  event.preventDefault();
  const body = { entry: readEntry(), note: kbForm.elements.note.value };
  const res = kb.key ? await requestJson("PUT", entryUrl(kb.key), body) : await requestJson("POST", KB, body);
  await afterChange(res, kb.key ? "saved" : "added");
}

async function remove() {
  const note = kbForm.elements.note.value;
  const res = await requestJson("DELETE", entryUrl(kb.key) + (note ? "?note=" + encodeURIComponent(note) : ""));
  await afterChange(res, "deleted");
}

async function rollBack(version) {
  const res = await requestJson("POST", entryUrl(kb.key) + "/rollback", { version });
  await afterChange(res, "rolled back to v" + version);
}

function entryCell(row) {
  const td = el("td");
  const a = el("a", row.title || row.key);
  a.href = "#";
  a.title = row.key + (row.deleted ? " (deleted)" : "");
  a.addEventListener("click", (e) => { e.preventDefault(); openEntry(row.key); });
  td.appendChild(a);
  return td;
}

function fillTable(id, rows, cells, empty) {
  const trs = rows.map((row) => { const tr = el("tr"); tr.append(...cells(row)); return tr; });
  if (!trs.length) trs.push(el("tr", empty));
  document.getElementById(id).replaceChildren(...trs);
}

async function loadReport() {
  const days = document.getElementById("kb-days").value;
  const res = await requestJson("GET", "/api/operator/knowledge-report?days=" + days);
  if (!res.ok) return;
  const r = res.data;
  fillTable("gap-unanswered", r.unanswered, (q) => {
    const question = el("td");
    if (q.conversation_id) {
      const a = el("a", q.question);
      a.href = "/staff/conversations/" + encodeURIComponent(q.conversation_id);
      question.appendChild(a);
    } else question.textContent = q.question;
    return [question, el("td", q.count), el("td", q.last_asked ? new Date(q.last_asked).toLocaleString() : "–")];
  }, "Every question found something.");
  fillTable("gap-used", r.most_used, (u) => [entryCell(u), el("td", u.replies)], "No reply used an entry yet.");
  fillTable("gap-down", r.thumbs_down, (d) => [entryCell(d), el("td", d.thumbs_down), el("td", d.thumbs_up)],
    "No reply that used an entry was rated unhelpful.");
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("kb-search").addEventListener("submit", (e) => { e.preventDefault(); search(1); });
  document.getElementById("kb-prev").addEventListener("click", () => search(kb.page - 1));
  document.getElementById("kb-next").addEventListener("click", () => search(kb.page + 1));
  document.getElementById("new-entry").addEventListener("click", newEntry);
  document.getElementById("kb-delete").addEventListener("click", remove);
  document.getElementById("kb-days").addEventListener("change", loadReport);
  kbForm.addEventListener("submit", save);
  newEntry();
  search(1);
  loadReport();
});
