// Chat replies as markdown through two well-kept libraries (web/static/vendor/, see its README):
// markdown-it with raw HTML off, so nothing the model writes becomes a tag, then DOMPurify with an
// allow-list over that output, so a bug in one of them alone still cannot put script on the page.
(function (root) {
  "use strict";
  const markdownit = root.markdownit || require("./vendor/markdown-it/markdown-it.umd.min.js");

  const SAFE_URL = /^https?:\/\/\S+$/i; // absolute http(s) only: no javascript:, data:, relative paths
  const TAGS = ["p", "br", "strong", "em", "s", "code", "pre", "ul", "ol", "li", "a", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td"];
  const PURIFY = {
    ALLOWED_TAGS: TAGS,
    ALLOWED_ATTR: ["href", "rel", "target", "start"], // no style: table alignment is not worth CSS
    ALLOWED_URI_REGEXP: /^https?:\/\//i,
    // DOMPurify checks every other attribute's value against that pattern too; these hold no URL.
    ADD_URI_SAFE_ATTR: ["rel", "target", "start"],
  };

  // breaks: the model writes one line per step; a single newline is a line break, as typed.
  const md = markdownit({ html: false, linkify: false, breaks: true, typographer: false });
  md.disable(["image"]); // a reply must never make the customer's browser fetch anything
  md.validateLink = (url) => SAFE_URL.test(url.trim());
  const linkOpen = md.renderer.rules.link_open ||
    ((tokens, idx, options, env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow");
    tokens[idx].attrSet("target", "_blank");
    return linkOpen(tokens, idx, options, env, self);
  };

  function escapeHtml(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  // markdown-it alone (Node runs this in the unit tests: it has no DOM for DOMPurify).
  // NULs are dropped (a stray one is no character anyone meant); \r\n is markdown-it's newline.
  function toHtml(text) {
    return md.render(String(text == null ? "" : text).replace(/\u0000/g, ""));
  }

  // What the page puts in innerHTML. Without DOMPurify (a failed load) the reply is shown as text.
  function render(text) {
    const purify = root.DOMPurify;
    if (!purify || !purify.isSupported) return "<p>" + escapeHtml(text == null ? "" : text) + "</p>";
    return purify.sanitize(toHtml(text), PURIFY);
  }

  const api = { render: render, toHtml: toHtml, escapeHtml: escapeHtml };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.SafeMarkdown = api;
})(typeof window !== "undefined" ? window : globalThis);
