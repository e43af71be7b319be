// Painel SVA: the only script the pages run (the CSP forbids inline script).
(function () {
  "use strict";

  // Confirmation dialogs: a form with data-confirm asks in the shared modal before submitting.
  var modalElement = document.getElementById("confirm-modal");
  var pendingForm = null;
  if (modalElement && window.bootstrap) {
    var modal = new window.bootstrap.Modal(modalElement);
    var accept = modalElement.querySelector("[data-confirm-accept]");
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.matches("form[data-confirm]") || form.dataset.confirmed === "yes") {
        return;
      }
      event.preventDefault();
      pendingForm = form;
      modalElement.querySelector("[data-confirm-message]").textContent = form.dataset.confirm;
      accept.textContent = form.dataset.confirmLabel || "Confirmar";
      // The accept button takes the colour of the action (red only for what destroys).
      accept.className = "btn " + (form.dataset.confirmCss || "btn-danger");
      modal.show();
    });
    accept.addEventListener("click", function () {
      if (pendingForm) {
        pendingForm.dataset.confirmed = "yes";
        accept.disabled = true;
        pendingForm.requestSubmit ? pendingForm.requestSubmit() : pendingForm.submit();
      }
    });
    modalElement.addEventListener("hidden.bs.modal", function () {
      accept.disabled = false;
      pendingForm = null;
    });
  }

  // Pessoa física / empresa: the name and document labels follow the kind chosen.
  document.addEventListener("change", function (event) {
    var input = event.target;
    var form = input.closest && input.closest("form[data-kind-labels]");
    if (!form || input.name !== "kind") { return; }
    var labels = JSON.parse(form.dataset.kindLabels)[input.value] || {};
    Object.keys(labels).forEach(function (field) {
      var label = form.querySelector("label[for=" + field + "]");
      if (label) { label.textContent = labels[field]; }
    });
  });

  // A box whose result a job is still producing carries data-poll-url: fetch the fresh box
  // until it no longer does (the job has finished), then, if asked, reload the page. A server
  // error slows the polling down; a refusal (the record is gone, no permission) stops it; a
  // redirect means the session ended, and reloading shows the login page. data-poll-delay
  // (ms) spaces the requests of boxes that may wait long (a list's rows).
  var poll = function (box, delay) {
    window.setTimeout(function () {
      fetch(box.dataset.pollUrl, { headers: { Accept: "text/html" }, credentials: "same-origin" })
        .then(function (response) {
          if (response.redirected) { window.location.reload(); return; }
          if (response.status >= 500) { poll(box, Math.min(delay * 2, 30000)); return; }
          if (!response.ok) { return; }
          return response.text().then(function (html) {
            var holder = document.createElement("template");
            holder.innerHTML = html.trim();
            var fresh = holder.content.firstElementChild;
            if (!fresh || !fresh.hasAttribute("data-poll-fragment")) { return; }
            box.replaceWith(fresh);
            if (fresh.dataset.pollUrl) {
              poll(fresh, Number(fresh.dataset.pollDelay) || 1000);
            } else if (box.hasAttribute("data-reload-when-done")) {
              window.location.reload();
            }
          });
        })
        .catch(function () { poll(box, Math.min(delay * 2, 30000)); });
    }, delay);
  };
  if (window.fetch) {
    document.querySelectorAll("[data-poll-url]").forEach(function (box) {
      poll(box, Number(box.dataset.pollDelay) || 1000);
    });
  }

  // A bulk action: the rows' checkboxes belong to a form above the table (form="<its id>").
  // "Marcar todos" ticks this page's rows; the bar says how many are ticked, and the button
  // waits for an action and a row. The confirmation names both.
  document.querySelectorAll("form[data-bulk]").forEach(function (form) {
    var boxes = function () {
      return Array.prototype.slice.call(
        document.querySelectorAll('input[type=checkbox][name=contratos][form="' + form.id + '"]'));
    };
    var all = document.querySelector('[data-select-all="' + form.id + '"]');
    var count = form.querySelector("[data-bulk-count]");
    var action = form.querySelector("select[name=acao]");
    var button = form.querySelector("button[type=submit]");
    var update = function () {
      var every = boxes();
      var ticked = every.filter(function (box) { return box.checked; }).length;
      count.textContent = ticked ? ticked + " contrato(s) marcado(s)." : "Nenhum contrato marcado.";
      if (all) {
        all.checked = ticked > 0 && ticked === every.length;
        all.indeterminate = ticked > 0 && ticked < every.length;
      }
      button.disabled = !(ticked && action.value);
      if (action.value) {
        form.dataset.confirm = action.options[action.selectedIndex].text + ": aplicar a " + ticked +
          " contrato(s) marcado(s)? Cada um é conferido; os que não aceitarem a ação são recusados.";
      }
    };
    document.addEventListener("change", function (event) {
      var input = event.target;
      if (input === all) {
        boxes().forEach(function (box) { box.checked = all.checked; });
      } else if (input !== action && !(input.name === "contratos" && input.getAttribute("form") === form.id)) {
        return;
      }
      update();
    });
    update();
  });

  // A select that picks which group of options is shown (a plan's platform → its packages);
  // choices in a hidden group are cleared so they cannot be sent by mistake.
  document.querySelectorAll("select[data-controls-groups]").forEach(function (select) {
    var container = document.getElementById(select.dataset.controlsGroups);
    if (!container) { return; }
    var apply = function (clear) {
      container.querySelectorAll("[data-platform-group]").forEach(function (group) {
        var shown = !select.value || group.dataset.platformGroup === select.value;
        group.hidden = !shown;
        if (!shown && clear) {
          group.querySelectorAll("input[type=checkbox]").forEach(function (box) { box.checked = false; });
        }
      });
    };
    select.addEventListener("change", function () { apply(true); });
    apply(false);
  });

  // The banner that says the worker or the scheduler has stopped refreshes by itself.
  var banner = document.getElementById("machinery-banner");
  if (banner && window.fetch) {
    var refresh = function () {
      fetch(banner.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (status) {
          if (!status) { return; }
          banner.replaceChildren.apply(banner, status.problems.map(function (problem) {
            var alert = document.createElement("div");
            alert.className = "alert alert-warning py-2";
            alert.setAttribute("role", "alert");
            var icon = document.createElement("i");
            icon.className = "bi bi-exclamation-triangle";
            icon.setAttribute("aria-hidden", "true");
            alert.append(icon, " " + problem);
            return alert;
          }));
        })
        .catch(function () { /* offline for a moment: keep what is shown */ });
    };
    window.setInterval(refresh, 15000);
  }
})();
