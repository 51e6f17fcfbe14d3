/*
 * Uploads with a progress bar (templates/bidrag/steps/attachments.html). A form marked
 * data-upload-script sends its chosen file as the body of a POST to the form's own action,
 * the kind and the file's name in headers (bidrag.views._attachment_upload_body); the
 * server passes the body on to S3 as it arrives and answers JSON: where to go next, or the
 * messages per field. The messages come from the server, or from the form's data-msg-*
 * attributes (rendered in the page's language). Without JavaScript, or without a file
 * chosen, the form is posted as usual and the server answers with the page.
 */
(function () {
  "use strict";

  function clearErrors(form) {
    form.querySelectorAll("[data-upload-errors]").forEach(function (node) {
      node.remove();
    });
    form.querySelectorAll(".error-summary, .field__errors").forEach(function (node) {
      node.remove();
    });
    form.querySelectorAll(".field--error").forEach(function (node) {
      node.classList.remove("field--error");
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (input) {
      input.removeAttribute("aria-invalid");
      var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id && id !== input.id + "_error";
      });
      if (described.length) {
        input.setAttribute("aria-describedby", described.join(" "));
      } else {
        input.removeAttribute("aria-describedby");
      }
    });
  }

  function listItem(prefix, text) {
    var item = document.createElement("li");
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = prefix + " ";
    item.appendChild(hidden);
    item.appendChild(document.createTextNode(text));
    return item;
  }

  // The same markup as templates/components/form_fields.html: a summary that is an alert,
  // and each message at its field, tied to the input with aria-describedby.
  function showErrors(form, errors) {
    clearErrors(form);
    var data = form.dataset;
    var summary = document.createElement("div");
    summary.className = "error-summary";
    summary.setAttribute("role", "alert");
    summary.setAttribute("tabindex", "-1");
    summary.setAttribute("aria-labelledby", "upload-error-summary");
    summary.setAttribute("data-upload-errors", "");
    var title = document.createElement("h2");
    title.className = "error-summary__title";
    title.id = "upload-error-summary";
    title.textContent = data.msgErrors;
    summary.appendChild(title);
    var list = document.createElement("ul");
    list.className = "error-summary__list";
    summary.appendChild(list);
    Object.keys(errors).forEach(function (name) {
      var input = form.querySelector('[name="' + name + '"]');
      var label = input && form.querySelector('label[for="' + input.id + '"]');
      errors[name].forEach(function (message) {
        var item = document.createElement("li");
        if (label) {
          var link = document.createElement("a");
          link.href = "#" + input.id;
          link.textContent = label.firstChild.textContent.trim() + ": " + message;
          item.appendChild(link);
        } else {
          item.textContent = message;
        }
        list.appendChild(item);
      });
      if (!input) {
        return;
      }
      var field = input.closest(".field");
      var own = document.createElement("ul");
      own.className = "field__errors";
      own.id = input.id + "_error";
      errors[name].forEach(function (message) {
        own.appendChild(listItem(data.msgErrorPrefix, message));
      });
      input.parentNode.insertBefore(own, input);
      if (field) {
        field.classList.add("field--error");
      }
      input.setAttribute("aria-invalid", "true");
      var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      described.push(own.id);
      input.setAttribute("aria-describedby", described.join(" "));
    });
    form.insertBefore(summary, form.firstChild);
    summary.focus();
  }

  function setUp(form) {
    var fileInput = form.querySelector('input[type="file"]');
    var kind = form.querySelector('[name="kind"]');
    var token = form.querySelector('[name="csrfmiddlewaretoken"]');
    var replaces = form.querySelector('[name="replaces"]');
    var box = form.querySelector("[data-upload-progress]");
    var bar = box.querySelector("progress");
    var shown = box.querySelector("[data-upload-percent]");
    var status = form.querySelector("[data-upload-status]");
    var button = form.querySelector('button[type="submit"]');
    var data = form.dataset;
    var percent = new Intl.NumberFormat(document.documentElement.lang || "sv", {
      style: "percent",
      maximumFractionDigits: 0,
    });
    var busy = false;

    function finish(message) {
      busy = false;
      button.removeAttribute("aria-disabled");
      box.hidden = true;
      status.textContent = message || "";
    }

    form.addEventListener("submit", function (event) {
      var file = fileInput && fileInput.files && fileInput.files[0];
      if (busy) {
        event.preventDefault();
        return;
      }
      if (!file || !window.XMLHttpRequest || !window.FormData) {
        return; // the server answers with the page, errors and all
      }
      event.preventDefault();
      if (file.size > Number(data.maxBytes)) {
        showErrors(form, { file: [data.msgTooLarge] });
        return;
      }
      clearErrors(form);
      busy = true;
      button.setAttribute("aria-disabled", "true");
      bar.value = 0;
      shown.textContent = percent.format(0);
      box.hidden = false;
      status.textContent = data.msgSending.replace("%(name)s", file.name);
      var announced = 0;

      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", token.value);
      xhr.setRequestHeader("X-Upload-Kind", kind.value);
      xhr.setRequestHeader("X-Upload-Name", encodeURIComponent(file.name));
      if (replaces && replaces.value) {
        xhr.setRequestHeader("X-Upload-Replaces", replaces.value);
      }
      xhr.upload.addEventListener("progress", function (progress) {
        if (!progress.lengthComputable) {
          return;
        }
        var share = progress.loaded / progress.total;
        bar.value = Math.round(share * 100);
        shown.textContent = percent.format(share);
        // A screen reader hears a quarter at a time, not every percent.
        var quarter = Math.floor(share * 4);
        if (quarter > announced && quarter < 4) {
          announced = quarter;
          status.textContent = data.msgProgress.replace("%(percent)s", percent.format(quarter / 4));
        }
      });
      xhr.addEventListener("load", function () {
        var answer = null;
        try {
          answer = JSON.parse(xhr.responseText);
        } catch (notJson) {
          answer = null;
        }
        if (answer && answer.ok && answer.next) {
          bar.value = 100;
          shown.textContent = percent.format(1);
          status.textContent = data.msgDone;
          window.location.assign(answer.next); // the step anew: its list of files, the message
          return;
        }
        finish("");
        if (answer && answer.errors) {
          var errors = answer.errors;
          if (errors.__all__) {
            errors = { file: errors.__all__ };
          }
          showErrors(form, errors);
        } else {
          showErrors(form, { file: [data.msgFailed] });
        }
      });
      xhr.addEventListener("error", function () {
        finish("");
        showErrors(form, { file: [data.msgBroken] });
      });
      xhr.addEventListener("abort", function () {
        finish("");
      });
      xhr.send(file);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-upload-script]").forEach(setUp);
  });
})();
