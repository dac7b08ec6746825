// Shared by the staff and operator consoles: DOM nodes whose text is only ever set through
// textContent (so message text stays inert), and JSON calls that carry the CSRF token.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function requestJson(method, url, body) {
  const init = { method, headers: { "X-CSRF-Token": CSRF, Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const data = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, data };
}
