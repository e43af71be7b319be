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
