// Accountable's few lines of behaviour that htmx attributes cannot express.
// No inline scripts anywhere: the Content-Security-Policy allows only files from 'self'.
(function () {
  "use strict";

  // Every htmx request carries the CSRF token in a header (Flask-WTF reads X-CSRFToken).
  // A GET drops its empty fields, so a pushed URL reads ?stage=customer, not ?q=&owner=&stage=customer.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
    var data = event.detail.formData;
    if (event.detail.verb === "get" && data) {
      var empty = [];
      data.forEach(function (value, key) { if (value === "") { empty.push(key); } });
      empty.forEach(function (key) {
        if (data.getAll(key).every(function (value) { return value === ""; })) { data.delete(key); }
      });
    }
  });

  // A rejected form (422) and an error page still swap in, so the user sees the message
  // beside the field with everything they typed.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 422 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    } else if (status === 400 || status === 403 || status === 404 || status === 429 || status >= 500) {
      // Show the message where the action happened instead of failing silently.
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // After a rejected form has swapped in, take the user to what needs fixing: the first field
  // marked invalid, else the form's banner (a 409 "someone else saved first" has no field).
  // Only for what the user sent (a submit or a click), never for a live check while typing,
  // which keeps the cursor where it is. One response may settle several elements: act once.
  var handledRejections = typeof WeakSet === "function" ? new WeakSet() : null;
  function firstProblem(root) {
    var selectors = ['[aria-invalid="true"]', ".form-banner[role=alert]", "[role=alert]"];
    for (var s = 0; s < selectors.length; s++) {
      var found = Array.prototype.slice.call(root.querySelectorAll(selectors[s]));
      if (root.matches(selectors[s])) { found.unshift(root); }
      for (var f = 0; f < found.length; f++) {
        var element = found[f];
        var shown = element.getClientRects().length > 0;
        if (shown && !element.disabled && (s === 0 || element.textContent.trim())) { return element; }
      }
    }
    return null;
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail || {};
    var xhr = detail.xhr;
    if (!xhr || (xhr.status !== 422 && xhr.status !== 409)) { return; }
    var trigger = detail.requestConfig && detail.requestConfig.triggeringEvent;
    if (!trigger || (trigger.type !== "submit" && trigger.type !== "click")) { return; }
    if (handledRejections && handledRejections.has(xhr)) { return; }
    var swapped = event.target;
    if (!swapped || !swapped.isConnected || !swapped.querySelectorAll) { return; }
    var problem = firstProblem(swapped);
    if (!problem) { return; }  // perhaps in another element this response settled
    if (handledRejections) { handledRejections.add(xhr); }
    if (!problem.matches("input, select, textarea, button, a[href], [tabindex]")) {
      problem.setAttribute("tabindex", "-1");  // a banner: focusable from script only
    }
    problem.scrollIntoView({ block: "center" });  // clear of the sticky top bar
    problem.focus({ preventScroll: true });
  });

  // "/" focuses the first search field on the page (the list's, else the header's).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var active = document.activeElement;
    if (active && (active.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName))) { return; }
    var field = document.querySelector("[data-search]") || document.querySelector("[data-shortcut='/']");
    if (field) { event.preventDefault(); field.focus(); field.select(); }
  });

  // Close the header's live results when focus leaves the search box; Escape clears them.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var results = document.getElementById("global-results");
      if (results) { results.innerHTML = ""; }
    }
  });
  document.addEventListener("click", function (event) {
    var results = document.getElementById("global-results");
    if (results && !event.target.closest(".globalsearch")) { results.innerHTML = ""; }
  });

  // A link to a folded <details> (the timeline's quick-add box) opens it and puts the cursor in it.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-open]");
    if (!link) { return; }
    var box = document.querySelector(link.getAttribute("data-open"));
    if (!box) { return; }
    event.preventDefault();
    box.open = true;
    box.scrollIntoView({ block: "start", behavior: "smooth" });
    var field = box.querySelector("textarea, input:not([type=hidden]), select");
    if (field) { field.focus({ preventScroll: true }); }
  });

  // "Ask once, in place": a button with data-confirm-target reveals the confirmation beside it.
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-reveal]");
    if (!opener) { return; }
    var target = document.getElementById(opener.getAttribute("data-reveal"));
    if (target) { target.hidden = !target.hidden; event.preventDefault(); }
  });
})();
