// What the chat page shows under a finished bot reply: its sources, a "cut short" notice with a
// Continue button, and a "Talk to a person" offer. Text is only ever set through textContent.
(function () {
  "use strict";

  function node(tag, text, className) {
    const n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    if (className) n.className = className;
    return n;
  }

  function button(text, className, onClick) {
    const b = node("button", text, className);
    b.type = "button";
    b.addEventListener("click", () => { b.disabled = true; onClick(); });
    return b;
  }

  // Keys are the knowledge base's own ("product.echomax-anc"); encoded anyway, they end up in a URL.
  function sourceLine(sources) {
    const p = node("p", "Sources: ", "sources");
    sources.forEach((s, i) => {
      if (i) p.append(" · ");
      const a = node("a", s.title || s.key);
      a.href = "/kb/" + encodeURIComponent(s.key);
      a.target = "_blank";
      a.rel = "noopener";
      if (s.kind) a.dataset.kind = s.kind;
      p.append(a);
    });
    return p;
  }

  function dropContinue() { document.querySelectorAll("button.continue").forEach((b) => b.remove()); }

  // info: {sources, finish_reason, handoff_offer} from the `done` frame or a history entry;
  // actions: {onContinue(), onHandoff()}. Safe to call again: the old extras are replaced.
  // Only the newest reply offers Continue (the server continues the conversation, not a reply),
  // so decorating one takes the button off the older ones.
  function decorate(li, info, actions, newest) {
    const old = li.querySelector(".extras");
    if (old) old.remove();
    if (newest) dropContinue();
    const box = node("div", null, "extras");
    const sources = Array.isArray(info.sources) ? info.sources.filter((s) => s && s.key) : [];
    if (sources.length) box.append(sourceLine(sources));
    if (info.finish_reason === "length") {
      const p = node("p", "The reply was cut short.", "cut-short");
      if (newest) p.append(" ", button("Continue", "link continue", actions.onContinue));
      box.append(p);
    }
    if (info.handoff_offer) {
      const p = node("p", null, "handoff-offer");
      p.append(button("Talk to a person", "secondary talk-to-person", actions.onHandoff));
      box.append(p);
    }
    if (!box.childNodes.length) return;
    const meta = li.querySelector(".meta");
    if (meta) li.insertBefore(box, meta);
    else li.append(box);
  }

  window.ReplyExtras = { decorate: decorate, dropContinue: dropContinue };
})();
