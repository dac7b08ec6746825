// The customer's side of the support desk, inside the chat log: a 1-5 rating (CSAT) after staff
// resolve the chat, and an email field when nobody can answer now. Calls carry the chat's token.
(function () {
  "use strict";
  const WORDS = ["Very unhappy", "Unhappy", "Neutral", "Happy", "Very happy"];

  function node(tag, text, className) {
    const n = document.createElement(tag);
    if (text != null) n.textContent = text;
    if (className) n.className = className;
    return n;
  }

  async function post(path, body) {
    const token = window.switchboardChat ? window.switchboardChat.token() : null;
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + (token || "") },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const errors = data.errors ? Object.values(data.errors).join("; ") : null;
      throw new Error(errors || (typeof data.detail === "string" ? data.detail : "please try again"));
    }
    return data;
  }

  function card(kind, title) {
    const log = document.getElementById("log");
    const old = log.querySelector(".desk-card." + kind);
    if (old) old.remove();
    const li = node("li", null, "desk-card " + kind);
    li.appendChild(node("p", title, "desk-title"));
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
    return li;
  }

  function done(li, text) {
    li.replaceChildren(node("p", text, "desk-title"));
  }

  function askRating() {
    const li = card("csat", "How did our team do?");
    const form = node("form", null, "csat-form");
    const group = node("fieldset", null, "csat-scores");
    group.appendChild(node("legend", "Your rating, 1 (very unhappy) to 5 (very happy)", "visually-hidden"));
    let score = 0;
    const send = node("button", "Send rating", "primary");
    send.type = "submit";
    send.disabled = true;
    WORDS.forEach((word, i) => {
      const b = node("button", String(i + 1));
      b.type = "button";
      b.title = word;
      b.setAttribute("aria-label", i + 1 + " — " + word);
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", () => {
        score = i + 1;
        group.querySelectorAll("button").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
        send.disabled = false;
      });
      group.appendChild(b);
    });
    const scale = node("p", null, "csat-scale");
    scale.append(node("span", WORDS[0]), node("span", WORDS[4]));
    const pick = node("div", null, "csat-pick");
    pick.append(group, scale);
    const label = node("label", "Anything to add? (optional)");
    const comment = node("textarea");
    comment.rows = 2;
    comment.maxLength = 2000;
    label.appendChild(comment);
    const error = node("p", null, "desk-error");
    error.setAttribute("role", "alert");
    form.append(pick, label, send, error);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      send.disabled = true;
      try {
        const saved = await post("/api/chat/csat", { score, comment: comment.value });
        done(li, "Thank you — you rated us " + saved.score + " out of 5.");
      } catch (err) {
        error.textContent = "Your rating was not saved: " + err.message;
        send.disabled = false;
      }
    });
    li.appendChild(form);
  }

  function askEmail() {
    const li = card("contact", "Leave your email and we will answer you there:");
    const form = node("form", null, "contact-form");
    const label = node("label", "Email address", "visually-hidden");
    const input = node("input");
    input.type = "email";
    input.required = true;
    input.maxLength = 254;
    input.autocomplete = "email";
    input.placeholder = "you@example.com";
    input.id = "contact-email";
    label.htmlFor = input.id;
    const send = node("button", "Send", "primary");
    send.type = "submit";
    const error = node("p", null, "desk-error");
    error.setAttribute("role", "alert");
    form.append(label, input, send);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      send.disabled = true;
      try {
        const saved = await post("/api/chat/contact", { email: input.value });
        done(li, "Thanks — our team will write to " + saved.email + ". You can also keep this page open.");
      } catch (err) {
        error.textContent = err.message;
        send.disabled = false;
      }
    });
    li.append(form, error);
  }

  async function askAgain() {
    const token = window.switchboardChat ? window.switchboardChat.token() : null;
    if (!token) return;
    const response = await fetch("/api/chat/desk", { headers: { Authorization: "Bearer " + token } });
    if (!response.ok) return;
    const asks = await response.json();
    if (asks.csat) askRating();
    if (asks.ask_email) askEmail();
  }

  window.ChatDesk = {
    onWelcome() {
      askAgain().catch(() => {}); // best effort: the status frames ask as things happen
    },
    onStatus(frame) {
      if (frame.csat) askRating();
      if (frame.ask_email && !document.querySelector("#log .desk-card.contact")) askEmail();
    },
  };
})();
