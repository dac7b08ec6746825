// Safe markdown for chat replies: escape ALL html first, then add a tiny subset back
// (bold, italics, inline code, code blocks, lists, http(s) links). Nothing the model writes
// can become a tag or an attribute, because every tag here is produced by this file.
(function (root) {
  "use strict";

  function escapeHtml(text) {
    return String(text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  // Only absolute http(s) URLs; the text is already escaped, so quotes cannot break the attribute.
  function safeHref(escapedUrl) {
    return /^https?:\/\/[^\s]+$/i.test(escapedUrl) ? escapedUrl : null;
  }

  function inline(escaped) {
    // Code spans first, kept aside so their contents are not formatted.
    const spans = [];
    let out = escaped.replace(/`([^`\n]+)`/g, function (_, code) {
      spans.push("<code>" + code + "</code>");
      return "\u0000" + (spans.length - 1) + "\u0000";
    });
    out = out.replace(/\[([^\]\n]+)\]\(([^)\s]+)\)/g, function (whole, label, url) {
      const href = safeHref(url);
      return href ? '<a href="' + href + '" rel="noopener noreferrer nofollow" target="_blank">' + label + "</a>" : whole;
    });
    out = out.replace(/\*\*([^*\n]+)\*\*/g, "<strong>$1</strong>");
    out = out.replace(/(^|[^*\w])\*([^*\n]+)\*(?!\w)/g, "$1<em>$2</em>");
    out = out.replace(/(^|[^_\w])_([^_\n]+)_(?!\w)/g, "$1<em>$2</em>");
    return out.replace(/\u0000(\d+)\u0000/g, function (_, i) { return spans[Number(i)]; });
  }

  function render(text) {
    const lines = escapeHtml(text).split("\n");
    const html = [];
    let list = null; // "ul" | "ol" | null
    let code = null; // lines of an open ``` block
    function closeList() { if (list) { html.push("</" + list + ">"); list = null; } }
    for (const line of lines) {
      if (/^\s*```/.test(line)) {
        if (code === null) { closeList(); code = []; } else { html.push("<pre><code>" + code.join("\n") + "</code></pre>"); code = null; }
        continue;
      }
      if (code !== null) { code.push(line); continue; }
      const bullet = /^\s*[-*]\s+(.*)$/.exec(line);
      const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
      const item = bullet || numbered;
      if (item) {
        const kind = bullet ? "ul" : "ol";
        if (list !== kind) { closeList(); html.push("<" + kind + ">"); list = kind; }
        html.push("<li>" + inline(item[1]) + "</li>");
        continue;
      }
      closeList();
      if (line.trim() === "") { html.push("<br>"); continue; }
      html.push("<p>" + inline(line) + "</p>");
    }
    closeList();
    if (code !== null) html.push("<pre><code>" + code.join("\n") + "</code></pre>");
    return html.join("");
  }

  const api = { render: render, escapeHtml: escapeHtml };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.SafeMarkdown = api;
})(typeof window !== "undefined" ? window : globalThis);
