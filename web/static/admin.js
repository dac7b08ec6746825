// Admin page: users, API keys, retention, one customer's data, audit trail. Text only via textContent.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const status = $("admin-status");

  function say(text) { status.textContent = text; }

  async function call(method, url, body) {
    const r = await requestJson(method, url, body);
    if (!r.ok) say(typeof r.data.detail === "string" ? r.data.detail : "Request failed (" + r.status + ")");
    return r;
  }

  function button(text, onClick, className) {
    const b = el("button", text, className);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  async function loadUsers() {
    const r = await call("GET", "/api/admin/users");
    if (!r.ok) return;
    const body = $("users");
    body.textContent = "";
    for (const u of r.data) {
      const tr = el("tr");
      tr.dataset.user = u.username;
      tr.append(el("td", u.username), el("td", u.role), el("td", u.active ? "active" : "disabled"));
      const actions = el("td", null, "actions");
      actions.append(
        button(u.active ? "Disable" : "Enable", () => change(u.id, "active", { active: !u.active })),
        button(u.role === "operator" ? "Make staff" : "Make operator",
          () => change(u.id, "role", { role: u.role === "operator" ? "staff" : "operator" })),
        button("Reset password", () => resetPassword(u)),
      );
      tr.append(actions);
      body.append(tr);
    }
  }

  async function change(id, what, body) {
    const r = await call("POST", "/api/admin/users/" + id + "/" + what, body);
    if (r.ok) { say("Saved: " + r.data.username + " is " + r.data.role + ", " + (r.data.active ? "active" : "disabled")); }
    await Promise.all([loadUsers(), loadAudit()]);
  }

  async function resetPassword(user) {
    if (!confirm("Give " + user.username + " a new password? Their sessions end now.")) return;
    const r = await call("POST", "/api/admin/users/" + user.id + "/reset-password");
    if (r.ok) {
      const shown = $("shown-password");
      shown.hidden = false;
      shown.textContent = "New password for " + user.username + " (shown once): " + r.data.password;
    }
    await loadAudit();
  }

  $("user-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target;
    const r = await call("POST", "/api/admin/users",
      { username: f.username.value.trim(), role: f.role.value, password: f.password.value });
    if (r.ok) { f.reset(); say("Created " + r.data.role + " " + r.data.username); }
    await Promise.all([loadUsers(), loadAudit()]);
  });

  async function loadKeys() {
    const r = await call("GET", "/api/admin/keys");
    if (!r.ok) return;
    const body = $("keys");
    body.textContent = "";
    for (const k of r.data) {
      const tr = el("tr");
      tr.dataset.key = k.name;
      tr.append(el("td", k.name), el("td", k.prefix), el("td", k.created_by || "cli"),
        el("td", k.created_at), el("td", k.revoked ? "revoked" : "live"));
      const cell = el("td", null, "actions");
      if (!k.revoked) cell.append(button("Revoke", () => revokeKey(k)));
      tr.append(cell);
      body.append(tr);
    }
  }

  async function revokeKey(key) {
    if (!confirm("Revoke key " + key.name + "? Calls with it fail from now on.")) return;
    const r = await call("POST", "/api/admin/keys/" + key.id + "/revoke");
    if (r.ok) say("Revoked " + key.name);
    await Promise.all([loadKeys(), loadAudit()]);
  }

  $("key-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target;
    const r = await call("POST", "/api/admin/keys", { name: f.name.value.trim() });
    if (r.ok) {
      f.reset();
      const shown = $("shown-key");
      shown.hidden = false;
      shown.textContent = "New key (shown once, store it now): " + r.data.key;
    }
    await Promise.all([loadKeys(), loadAudit()]);
  });

  function days() { return parseInt($("retention-form").days.value, 10); }

  $("retention-preview").addEventListener("click", async () => {
    const r = await call("GET", "/api/admin/retention?days=" + encodeURIComponent(days()));
    if (r.ok) $("retention-result").textContent = r.data.conversations + " conversation(s) would be deleted.";
  });

  $("retention-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!confirm("Delete every conversation with no message in the last " + days() + " days?")) return;
    const r = await call("POST", "/api/admin/retention", { days: days() });
    if (r.ok) $("retention-result").textContent = "Deleted " + r.data.deleted + " conversation(s).";
    await loadAudit();
  });

  function customer() {
    const f = $("customer-form");
    return { conversation_id: f.conversation_id.value.trim(), contains: f.contains.value.trim() };
  }

  $("customer-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await call("POST", "/api/admin/customer/export", customer());
    if (r.ok) {
      const blob = new Blob([JSON.stringify(r.data, null, 2)], { type: "application/json" });
      const a = el("a");
      a.href = URL.createObjectURL(blob);
      a.download = "customer-data.json";
      a.click();
      URL.revokeObjectURL(a.href);
      $("customer-result").textContent = "Exported " + r.data.conversations.length + " conversation(s).";
    }
    await loadAudit();
  });

  $("customer-erase").addEventListener("click", async () => {
    if (!confirm("Erase this customer's conversations? This cannot be undone.")) return;
    const r = await call("POST", "/api/admin/customer/erase", Object.assign({ confirm: true }, customer()));
    if (r.ok) $("customer-result").textContent = "Erased " + r.data.erased + " conversation(s).";
    await loadAudit();
  });

  async function loadAudit() {
    const r = await call("GET", "/api/admin/audit?limit=200");
    if (!r.ok) return;
    const body = $("audit");
    body.textContent = "";
    for (const a of r.data) {
      const tr = el("tr");
      tr.dataset.action = a.action;
      tr.append(el("td", a.at), el("td", a.actor), el("td", a.action), el("td", a.target),
        el("td", Object.keys(a.details).length ? JSON.stringify(a.details) : ""));
      body.append(tr);
    }
  }

  async function loadSites() {
    const r = await call("GET", "/api/admin/sites");
    if (!r.ok) return;
    const body = $("sites");
    body.textContent = "";
    for (const site of r.data) {
      const tr = el("tr");
      tr.dataset.site = site.key;
      const swatch = el("td", site.color + " / " + site.text_color);
      tr.append(el("td", site.key), el("td", site.business_name), el("td", site.greeting), swatch,
        el("td", site.allowed_origins.join(" ")), el("td", site.enabled ? "enabled" : "disabled"));
      const cell = el("td", null, "actions");
      cell.append(button("Edit", () => editSite(site)), button("Delete", () => deleteSite(site)));
      tr.append(cell);
      body.append(tr);
    }
  }

  function editSite(site) {
    const f = $("site-form");
    for (const name of ["key", "business_name", "greeting", "color", "text_color", "position"]) f[name].value = site[name];
    f.allowed_origins.value = site.allowed_origins.join("\n");
    f.enabled.checked = site.enabled;
    f.key.focus();
  }

  async function deleteSite(site) {
    if (!confirm("Delete site " + site.key + "? Its widget stops loading.")) return;
    const r = await call("DELETE", "/api/admin/sites/" + encodeURIComponent(site.key));
    if (r.ok) say("Deleted site " + site.key);
    await Promise.all([loadSites(), loadAudit()]);
  }

  $("site-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target;
    f.querySelectorAll(".field-error").forEach((x) => { x.textContent = ""; });
    const body = {
      business_name: f.business_name.value, greeting: f.greeting.value, color: f.color.value,
      text_color: f.text_color.value, position: f.position.value, enabled: f.enabled.checked,
      allowed_origins: f.allowed_origins.value.split(/\s+/).filter(Boolean),
    };
    const key = f.key.value.trim();
    if (!key) { f.querySelector('[data-error-for="key"]').textContent = "a key is required"; return; }
    const r = await call("PUT", "/api/admin/sites/" + encodeURIComponent(key), body);
    if (r.ok) say("Saved site " + key);
    else for (const [field, message] of Object.entries(r.data.errors || {})) {
      const slot = f.querySelector('[data-error-for="' + field + '"]');
      if (slot) slot.textContent = message;
    }
    await Promise.all([loadSites(), loadAudit()]);
  });

  window.switchboardAdmin = { loadUsers, loadKeys, loadAudit, loadSites };
  loadUsers(); loadKeys(); loadSites(); loadAudit();
})();
