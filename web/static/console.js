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

// The same thumb as web/templates/_thumbs.html: inline SVG, because an emoji is an empty box
// on a machine without an emoji font.
const THUMB_PATH = "M1 7h3v8H1zM5.5 15h6.6a1.5 1.5 0 0 0 1.46-1.15l1.2-4.6A1.5 1.5 0 0 0 13.3 7.4H10V3.6A1.6 1.6 0 0 0 8.4 2L5.5 7.2z";
function thumb(up, count) {
  const NS = "http://www.w3.org/2000/svg";
  const span = el("span", null, "thumb thumb-" + (up ? "up" : "down"));
  const svg = document.createElementNS(NS, "svg");
  for (const [k, v] of [["viewBox", "0 0 16 16"], ["width", "14"], ["height", "14"], ["aria-hidden", "true"], ["focusable", "false"]]) svg.setAttribute(k, v);
  const path = document.createElementNS(NS, "path");
  path.setAttribute("d", THUMB_PATH);
  if (!up) path.setAttribute("transform", "rotate(180 8 8)");
  svg.appendChild(path);
  span.append(svg, el("span", up ? "helpful" : "not helpful", "visually-hidden"));
  if (count !== undefined && count !== null) span.append(" " + count);
  return span;
}
