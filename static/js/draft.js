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
  document.addEventListener("htmx:sendError", function (event) {
    var status = document.getElementById("autosave-status");
    if (status && event.detail.elt && event.detail.elt.contains(status)) {
      status.textContent = status.dataset.offline || "";
    }
  });
})();
