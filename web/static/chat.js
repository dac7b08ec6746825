// Customer chat over /ws/chat: numbered events per reply, resume after a drop, no double text.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const log = $("log"), input = $("input"), form = $("composer"), stopBtn = $("stop"), sendBtn = $("send");
  const typing = $("typing"), connection = $("connection");
  const chatBox = document.querySelector("section.chat");
  const BUSINESS = chatBox.dataset.business || "Support";
  // In the widget the page names its site: the socket says which, and each site keeps its own chat.
  const SITE = chatBox.dataset.site || "";
  const GREETING = chatBox.dataset.greeting || "";
  const TOKEN_KEY = "switchboard.customer_token" + (SITE ? "." + SITE : "");

  let ws = null, retries = 0, welcomed = false;
  const jobs = {};      // job_id -> {seq, text, el, messageId, done}
  const outbox = [];    // frames typed while offline, sent after the next welcome

  function setConnection(text, offline) {
    connection.textContent = text;
    connection.classList.toggle("offline", !!offline);
  }

  function notice(text, isError) {
    const li = document.createElement("li");
    li.className = "notice" + (isError ? " error" : "");
    li.textContent = text;
    log.appendChild(li);
    scroll();
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  function bubble(role, label) {
    const li = document.createElement("li");
    li.className = "msg " + role;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = label;
    const body = document.createElement("div");
    body.className = "body";
    li.append(who, body);
    log.appendChild(li);
    scroll();
    return li;
  }

  function setBody(li, role, text) {
    const body = li.querySelector(".body");
    // Customer text is shown verbatim; bot and staff text go through the escaping renderer.
    if (role === "customer") body.textContent = text;
    else body.innerHTML = window.SafeMarkdown.render(text);
  }

  // A message over the rate limit is saved but not answered: say so under it, on the page and after a reload.
  function markNotAnswered(li) {
    li.classList.remove("sending");
    li.classList.add("rate_limited");
    if (li.querySelector(".state")) return;
    const state = document.createElement("div");
    state.className = "state";
    state.textContent = "Saved · not answered (sent too fast)";
    li.appendChild(state);
  }

  function label(role, intent) {
    if (role === "customer") return "You";
    if (role === "staff") return BUSINESS + " team";
    return "Assistant" + (intent ? " · " + intent.replace("_", " ") : "");
  }

  function addRating(li, messageId, current) {
    if (!messageId || li.querySelector(".meta")) return;
    const meta = document.createElement("div");
    meta.className = "meta";
    const text = document.createElement("span");
    text.textContent = "Helpful?";
    meta.appendChild(text);
    for (const [rating, glyph, name] of [[1, "Yes", "Helpful"], [-1, "No", "Not helpful"]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = glyph;
      b.setAttribute("aria-label", name);
      b.setAttribute("aria-pressed", String(current === rating));
      b.addEventListener("click", () => {
        send({ type: "feedback", message_id: messageId, rating: rating });
        meta.querySelectorAll("button").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
      });
      meta.appendChild(b);
    }
    li.appendChild(meta);
  }

  function streaming(on) {
    typing.hidden = !on;
    stopBtn.hidden = !on;
  }

  function anyStreaming() { return Object.values(jobs).some((j) => !j.done); }

  function renderHistory(history) {
    const unsent = Array.from(log.querySelectorAll(".msg.sending")); // typed while offline, re-shown below
    log.textContent = "";
    const newest = history.length ? history[history.length - 1] : null;
    for (const m of history) {
      const job = m.job_id && jobs[m.job_id];
      const li = bubble(m.role, label(m.role, m.intent));
      li.classList.add(m.status);
      if (m.status === "streaming" && m.job_id) {
        // Keep what this page already received; the server sends only what came after.
        const j = job || (jobs[m.job_id] = { seq: 1, text: "", done: false });
        j.el = li; j.messageId = m.id;
        setBody(li, m.role, j.text);
        li.setAttribute("aria-busy", "true");
      } else {
        setBody(li, m.role, m.text);
        if (m.status === "rate_limited") markNotAnswered(li);
        if (m.role === "assistant" && m.status !== "error") addRating(li, m.id, m.rating);
        if (m.role === "assistant") window.ReplyExtras.decorate(li, m, extraActions, m === newest);
        if (job) job.done = true;
      }
    }
    if (GREETING && !history.length) setBody(bubble("greeting", label("assistant")), "assistant", GREETING);
    unsent.forEach((li) => log.appendChild(li));
    streaming(anyStreaming());
  }

  function onFrame(f) {
    const job = f.job_id ? jobs[f.job_id] : null;
    if (job && typeof f.seq === "number") {
      if (f.seq <= job.seq) return; // seen before a reconnect: never show it twice
      job.seq = f.seq;
    }
    switch (f.type) {
      case "welcome":
        welcomed = true; retries = 0;
        localStorage.setItem(TOKEN_KEY, f.token);
        setConnection(f.status === "active" ? "Connected" :
          (f.status === "closed" ? "Connected · resolved" : "Connected · waiting for our team"));
        renderHistory(f.history);
        if (window.ChatDesk) window.ChatDesk.onWelcome(); // a reload asks again for a rating or an email
        while (outbox.length) send(outbox.shift());
        break;
      case "stored": {
        const pending = log.querySelector('[data-client-id="' + CSS.escape(f.client_id || "") + '"]');
        if (pending) { pending.classList.remove("sending"); pending.dataset.messageId = f.message_id; }
        if (pending && f.status === "rate_limited") markNotAnswered(pending);
        // No job is tracked yet: a message the bot stays silent on (a person has the chat, or the
        // router hands it off) names a job that never streams, and would keep "typing" up forever.
        // The `route` frame starts the job; a reply already streaming after a drop is in the history.
        break;
      }
      case "route": {
        const j = jobs[f.job_id] || (jobs[f.job_id] = { seq: f.seq, text: "", done: false });
        j.messageId = f.message_id;
        j.el = bubble("assistant", label("assistant", f.intent));
        j.el.classList.add("streaming");
        j.el.setAttribute("aria-busy", "true"); // screen readers read the reply once, when complete
        streaming(true);
        break;
      }
      case "token": {
        const j = jobs[f.job_id];
        if (!j) break;
        j.text += f.text;
        if (!j.el) j.el = bubble("assistant", label("assistant"));
        setBody(j.el, "assistant", j.text);
        scroll();
        break;
      }
      case "done": {
        const j = jobs[f.job_id];
        if (!j) break;
        j.done = true;
        j.text += f.text || ""; // the last delta rides on the done event
        if (j.el) {
          j.el.removeAttribute("aria-busy");
          setBody(j.el, "assistant", j.text);
          j.el.classList.remove("streaming");
          if (f.finish_reason === "cancelled") { j.el.classList.add("interrupted"); notice("Reply stopped."); }
          addRating(j.el, f.message_id);
          window.ReplyExtras.decorate(j.el, f, extraActions, true);
        }
        streaming(anyStreaming());
        break;
      }
      case "error":
        if (job) {
          job.done = true;
          if (job.el) { job.el.classList.add("error"); job.el.removeAttribute("aria-busy"); }
          streaming(anyStreaming());
        }
        notice(f.message, true);
        break;
      case "busy":
        notice("The assistant is busy, retrying…");
        break;
      case "staff_message": {
        const li = bubble("staff", label("staff"));
        setBody(li, "staff", f.text || "");
        break;
      }
      case "status":
        if (f.text) notice(f.text);
        if (f.status === "pending" || f.status === "human") setConnection("Connected · waiting for our team");
        else if (f.status === "active") setConnection("Connected"); // handed back to the assistant
        else if (f.status === "closed") setConnection("Connected · resolved");
        if (window.ChatDesk) window.ChatDesk.onStatus(f); // CSAT after a resolve, email when nobody is in
        break;
    }
  }

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN && (welcomed || frame.type === "hello")) {
      ws.send(JSON.stringify(frame));
      return true;
    }
    if (frame.type === "message" || frame.type === "continue") outbox.push(frame);
    return false;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/ws/chat" + (SITE ? "?site=" + encodeURIComponent(SITE) : ""));
    welcomed = false;
    ws.onopen = () => {
      const lastSeq = {};
      for (const [id, j] of Object.entries(jobs)) if (!j.done) lastSeq[id] = j.seq;
      send({ type: "hello", token: localStorage.getItem(TOKEN_KEY), conversation_id: null, last_seq: lastSeq });
    };
    ws.onmessage = (e) => { try { onFrame(JSON.parse(e.data)); } catch (err) { console.error(err); } };
    ws.onclose = () => {
      welcomed = false;
      // Exponential backoff with jitter, capped: a restarting server is not stampeded.
      const delay = Math.min(15000, 500 * 2 ** retries) * (0.75 + Math.random() / 2);
      retries += 1;
      setConnection("Reconnecting…", true);
      setTimeout(connect, delay);
    };
  }

  // Shown at once as "sending"; the `stored` frame with the same client id confirms it.
  function sendCustomer(frame, shownText) {
    window.ReplyExtras.dropContinue(); // a new message moves on: "continue" would no longer fit
    const clientId = Math.random().toString(36).slice(2) + Date.now().toString(36);
    const li = bubble("customer", label("customer"));
    li.dataset.clientId = clientId;
    li.classList.add("sending");
    setBody(li, "customer", shownText);
    send(Object.assign({ client_id: clientId }, frame));
  }

  // The server stores a `continue` frame as this text, so a reload shows the same bubble.
  const CONTINUE_TEXT = "Please continue.";
  const extraActions = {
    onContinue: () => sendCustomer({ type: "continue" }, CONTINUE_TEXT),
    onHandoff: () => send({ type: "handoff" }),
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    sendCustomer({ type: "message", text: text }, text);
    input.value = "";
    input.focus();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendBtn.click(); }
  });
  stopBtn.addEventListener("click", () => { send({ type: "stop" }); input.focus(); });
  $("handoff").addEventListener("click", () => send({ type: "handoff" }));
  $("new-chat").addEventListener("click", () => {
    localStorage.removeItem(TOKEN_KEY);
    for (const k of Object.keys(jobs)) delete jobs[k];
    if (ws) ws.close();
  });
  const closeBtn = $("widget-close");
  // Inside the widget's iframe: ask the embedding page (widget.js) to fold the chat away.
  if (closeBtn) closeBtn.addEventListener("click", () => window.parent.postMessage({ type: "switchboard:close" }, "*"));
  window.switchboardChat = { socket: () => ws, jobs: jobs, token: () => localStorage.getItem(TOKEN_KEY) };
  connect();
})();
