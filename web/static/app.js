// earful review: keyboard shortcuts and small conveniences. A static file because the
// Content-Security-Policy allows no inline script; it never builds HTML from page data.
(function () {
  "use strict";

  var help = document.getElementById("help");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#queue tr[data-href]"));
  var ticketPage = document.body.classList.contains("ticket-page");
  var current = -1;
  var STORE_KEY = "earful.selected";

  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function toggleHelp() {
    if (!help) return;
    if (help.open) help.close(); else help.showModal();
  }

  function select(index) {
    if (!rows.length) return;
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0) {
      rows[current].classList.remove("selected");
      rows[current].removeAttribute("aria-selected");
    }
    current = index;
    var row = rows[current];
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    row.scrollIntoView({ block: "nearest" });
    try { sessionStorage.setItem(STORE_KEY, row.getAttribute("data-ticket")); } catch (e) { /* private mode */ }
  }

  function selectedRow() {
    return current >= 0 ? rows[current] : null;
  }

  function go(suffix) {
    var row = selectedRow();
    if (row) window.location.assign(row.getAttribute("data-href") + (suffix || ""));
  }

  function submitAssign() {
    var row = selectedRow();
    if (!row) return;
    var form = row.querySelector("form.assign-form");
    var button = form && form.querySelector("button");
    if (form && !(button && button.disabled)) form.submit();
  }

  function focusField(id) {
    var field = document.getElementById(id);
    if (!field || field.disabled) return false;
    field.scrollIntoView({ block: "center" });
    field.focus();
    return true;
  }

  function submitForm(id) {
    var form = document.getElementById(id);
    if (form) form.submit();
  }

  var queueKeys = {
    j: function () { select(current + 1); },
    k: function () { select(current - 1); },
    o: function () { go(""); },
    Enter: function () { go(""); },
    a: submitAssign,
    r: function () { go("#resolve"); },
    d: function () { go("#dismiss"); }
  };

  var ticketKeys = {
    a: function () { focusField("assignee"); },
    e: function () { submitForm("acknowledge-form"); },
    n: function () { focusField("note"); },
    p: function () { focusField("reply"); },
    r: function () { focusField("root_cause"); },
    d: function () { focusField("dismiss_reason"); },
    u: function () { window.location.assign("/queue"); }
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (event.key === "?") {
      event.preventDefault();
      toggleHelp();
      return;
    }
    if (help && help.open) return;
    var keys = rows.length ? queueKeys : (ticketPage ? ticketKeys : null);
    var action = keys && keys[event.key];
    if (!action) return;
    // Enter on a focused link or button keeps its own meaning.
    if (event.key === "Enter" && event.target && event.target.closest("a, button")) return;
    event.preventDefault();
    action();
  });

  Array.prototype.forEach.call(document.querySelectorAll("[data-help]"), function (button) {
    button.addEventListener("click", toggleHelp);
  });

  rows.forEach(function (row, index) {
    row.addEventListener("click", function (event) {
      if (!event.target.closest("a, button, form")) select(index);
    });
  });

  if (rows.length) {
    var remembered = null;
    try { remembered = sessionStorage.getItem(STORE_KEY); } catch (e) { /* private mode */ }
    var start = 0;
    rows.forEach(function (row, index) {
      if (row.getAttribute("data-ticket") === remembered) start = index;
    });
    select(start);
  }

  // Arriving from the queue with r or d: put the cursor where the decision is made.
  if (ticketPage) {
    var targets = { "#resolve": "root_cause", "#dismiss": "dismiss_reason", "#assign": "assignee" };
    if (targets[window.location.hash]) focusField(targets[window.location.hash]);
  }

  // Choosing a template fills the reply box with its text (still editable before sending).
  var templateSelect = document.getElementById("template_id");
  var reply = document.getElementById("reply");
  if (templateSelect && reply) {
    templateSelect.addEventListener("change", function () {
      var option = templateSelect.options[templateSelect.selectedIndex];
      var text = option && option.getAttribute("data-text");
      if (text !== null && text !== undefined) reply.value = text;
    });
  }
})();
