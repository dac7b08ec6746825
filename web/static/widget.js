// Switchboard chat widget. One line on any site:
//   <script src="https://CHAT-HOST/widget.js" data-site="SITE-KEY" async></script>
// draws a launcher button (in a shadow root, so the site's CSS cannot reach it) that opens the chat
// in an iframe of CHAT-HOST/embed/SITE-KEY. The site's name, greeting and colours come from the
// chat host (set by its operators); only origins the site allows may read them or frame the chat.
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.dataset.site || window.SwitchboardWidget) return;
  const site = script.dataset.site;
  const chatOrigin = new URL(script.src, location.href).origin;
  const configUrl = chatOrigin + "/widget/sites/" + encodeURIComponent(site) + ".json";

  function css(node, rules) { Object.assign(node.style, rules); return node; }

  function mount(cfg) {
    const host = document.createElement("div");
    host.id = "switchboard-widget";
    document.body.appendChild(host);
    const root = host.attachShadow({ mode: "open" });
    const side = cfg.position === "left" ? "left" : "right";
    const launcher = css(document.createElement("button"), {
      position: "fixed", bottom: "20px", [side]: "20px", zIndex: "2147483000", height: "56px",
      minWidth: "56px", padding: "0 18px", borderRadius: "28px", border: "none", cursor: "pointer",
      background: cfg.color, color: cfg.text_color, font: "600 15px system-ui, sans-serif",
      boxShadow: "0 4px 14px rgba(0,0,0,.25)",
    });
    launcher.type = "button";
    launcher.className = "launcher";
    launcher.textContent = "Chat with " + cfg.business_name;
    launcher.setAttribute("aria-expanded", "false");
    root.appendChild(launcher);
    let frame = null;

    function toggle(open) {
      if (open && !frame) {
        // Created on first open: no socket is opened for visitors who never chat.
        frame = css(document.createElement("iframe"), {
          position: "fixed", bottom: "88px", [side]: "20px", zIndex: "2147483000", width: "370px",
          maxWidth: "calc(100vw - 40px)", height: "560px", maxHeight: "calc(100vh - 110px)",
          border: "none", borderRadius: "12px", boxShadow: "0 8px 28px rgba(0,0,0,.3)", background: "#fff",
        });
        frame.title = "Chat with " + cfg.business_name;
        frame.src = cfg.embed_url;
        root.appendChild(frame);
      }
      if (frame) frame.hidden = !open;
      launcher.setAttribute("aria-expanded", String(open));
      launcher.textContent = open ? "Close chat" : "Chat with " + cfg.business_name;
    }

    launcher.addEventListener("click", () => toggle(launcher.getAttribute("aria-expanded") !== "true"));
    window.addEventListener("message", (e) => {
      // Only the chat's own frame may close it.
      if (frame && e.source === frame.contentWindow && e.origin === chatOrigin && e.data &&
          e.data.type === "switchboard:close") toggle(false);
    });
    window.SwitchboardWidget = { open: () => toggle(true), close: () => toggle(false), config: cfg };
  }

  fetch(configUrl, { credentials: "omit" })
    .then((r) => r.json().then((data) => (r.ok ? data : Promise.reject(new Error(data.detail || r.status)))))
    .then((cfg) => (document.body ? mount(cfg) : document.addEventListener("DOMContentLoaded", () => mount(cfg))))
    .catch((err) => console.error("Switchboard widget for site " + site + " not shown: " + err.message));
})();
