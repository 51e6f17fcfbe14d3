/*
 * The draft's steps (templates/bidrag/application_edit.html). Loaded after htmx, with
 * `defer`, so the settings below are in place before htmx starts at DOMContentLoaded.
 * Everything here is an improvement: without JavaScript the step's buttons save the form.
 */
(function () {
  "use strict";
  if (window.htmx) {
    // The CSP allows styles and scripts from this site's files only: no inline indicator
    // style, no eval. Autosave answers: 204 (nothing to show), 200 with the time, 401 (the
    // session ended) and 409 (submitted meanwhile) with a sentence for the status line.
    htmx.config.includeIndicatorStyles = false;
    htmx.config.allowEval = false;
    htmx.config.allowScriptTags = false;
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "40[19]", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
    ];
  }
  document.addEventListener("DOMContentLoaded", function () {
    // After a failed "Spara och fortsätt" the error summary takes the focus (WCAG 3.3.1).
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) {
      summary.focus();
    }
  });
  // What was typed in the last pause before leaving the page (a link, reload, closing the
  // tab) has not reached the autosave yet: send it as the page goes away.
  var dirty = new WeakSet();
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("hx-post")) {
      dirty.add(form);
    }
  });
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("hx-post")) {
      dirty.add(form);
    }
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    dirty.delete(event.detail.elt);
  });
  document.addEventListener("submit", function (event) {
    dirty.delete(event.target);  // the form itself is being saved
  });
  window.addEventListener("pagehide", function () {
    document.querySelectorAll("form[hx-post]").forEach(function (form) {
      if (dirty.has(form) && navigator.sendBeacon) {
        navigator.sendBeacon(form.getAttribute("hx-post"), new FormData(form));
        dirty.delete(form);
      }
    });
  });
  document.addEventListener("htmx:sendError", function (event) {
    var status = document.getElementById("autosave-status");
    if (status && event.detail.elt && event.detail.elt.contains(status)) {
      status.textContent = status.dataset.offline || "";
    }
  });
})();
