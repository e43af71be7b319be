/*
 * Painel SVA — the job dashboard (/rq): what every page of it shares.
 *
 * Adapted from rq-dashboard 0.9 (rq_dashboard/templates/rq_dashboard/scripts/dashboard.js and
 * inline_js.html), Copyright 2011-2017 Vincent Driessen, 2017-2019 Vladimir Protasov,
 * 2019 Parallels International GmbH; BSD licence (2-clause): its notice, conditions and disclaimer are in
 * static/rq/LICENSE-rq-dashboard.txt.
 *
 * Changed for the panel: a static file instead of a template rendered into an inline script, so
 * the pages keep the panel's CSP (script-src 'self', no 'unsafe-inline', no 'unsafe-eval').
 * Its parameters are read from data-* attributes (autoescaped by Jinja); data is put into the
 * page as text (textContent), links only as paths on this site; rows are built from <template>
 * elements instead of underscore templates (which need eval); requests use fetch() with the
 * CSRF token the panel sets for /rq; no Redis instance selector.
 */
(function () {
  "use strict";

  var body = document.body;
  var prefix = body.dataset.rqPrefix; // "/rq/"
  var base = prefix + encodeURIComponent(body.dataset.rqInstance);
  var pollInterval = Math.max(Number(body.dataset.pollInterval) || 2500, 500);

  var path = function (parts) {
    return parts.map(function (part) { return encodeURIComponent(String(part)); }).join("/");
  };

  var urls = {
    queues: function () { return base + "/data/queues.json"; },
    queuesView: function () { return prefix; },
    workers: function () { return base + "/data/workers.json"; },
    jobs: function (queue, registry, perPage, order, page) {
      return base + "/data/jobs/" + path([queue, registry, perPage, order, page]) + ".json";
    },
    jobsView: function (queue, registry, perPage, order, page) {
      return base + "/view/jobs/" + path([queue, registry, perPage, order, page]);
    },
    job: function (id) { return base + "/data/job/" + path([id]) + ".json"; },
    jobView: function (id) { return base + "/view/job/" + path([id]); },
    deleteJob: function (id) { return prefix + "job/" + path([id]) + "/delete"; },
    requeueJob: function (id) { return prefix + "job/" + path([id]) + "/requeue"; }
  };

  // The token the panel sets (SameSite=Strict, path /rq) for these pages' POSTs.
  var csrfToken = function () {
    var found = document.cookie.split(";").map(function (item) { return item.trim(); })
      .filter(function (item) { return item.indexOf("_csrf_token=") === 0; })[0];
    return found ? decodeURIComponent(found.slice("_csrf_token=".length)) : "";
  };

  var RequestError = function (status) {
    this.status = status;
  };

  var answer = function (response) {
    if (response.status === 401 || response.redirected) {
      window.location.reload(); // the session ended: the page goes to the login
      throw new RequestError(401);
    }
    if (!response.ok) { throw new RequestError(response.status); }
    return response.json();
  };

  var getJSON = function (url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(answer);
  };

  var post = function (url) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() }
    }).then(answer);
  };

  var text = function (value) {
    return value === null || value === undefined ? "" : String(value);
  };

  // Links come from the server's url_for or from urls above: a path on this site, or no link.
  var localPath = function (value) {
    return typeof value === "string" && /^\/(?![\/\\])/.test(value) ? value : "#";
  };

  // A copy of <template id=…>, filled: [data-if=key] is dropped when the value is falsy,
  // [data-text=key] gets the value as text, [data-title=key] as its title, [data-href=key] as
  // a local link.
  var fill = function (templateId, values) {
    var fragment = document.getElementById(templateId).content.cloneNode(true);
    fragment.querySelectorAll("[data-if]").forEach(function (element) {
      if (!values[element.dataset["if"]]) { element.remove(); }
    });
    fragment.querySelectorAll("[data-text]").forEach(function (element) {
      element.textContent = text(values[element.dataset.text]);
    });
    fragment.querySelectorAll("[data-title]").forEach(function (element) {
      var title = text(values[element.dataset.title]);
      if (title) { element.title = title; }
    });
    fragment.querySelectorAll("[data-href]").forEach(function (element) {
      element.setAttribute("href", localPath(values[element.dataset.href]));
    });
    return fragment;
  };

  var relativeFormat = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat("pt-BR", { numeric: "auto" }) : null;
  var UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];

  var parseDate = function (iso) {
    var date = iso ? new Date(iso) : null;
    return date && !isNaN(date.getTime()) ? date : null;
  };

  var toRelative = function (iso) {
    var date = parseDate(iso);
    if (!date) { return "-"; }
    if (!relativeFormat) { return date.toLocaleString("pt-BR"); }
    var seconds = (date.getTime() - Date.now()) / 1000;
    for (var i = 0; i < UNITS.length; i++) {
      if (Math.abs(seconds) >= UNITS[i][1] || UNITS[i][0] === "second") {
        return relativeFormat.format(Math.round(seconds / UNITS[i][1]), UNITS[i][0]);
      }
    }
    return "-";
  };

  var toShort = function (iso) {
    var date = parseDate(iso);
    return date ? date.toLocaleString("pt-BR") : "-";
  };

  var showError = function (message) {
    var page = document.getElementById("rq-page");
    var box = document.getElementById("rq-error");
    if (!message) {
      if (box) { box.remove(); }
      return;
    }
    if (!box) {
      box = document.createElement("div");
      box.id = "rq-error";
      box.className = "alert alert-danger";
      box.setAttribute("role", "alert");
      page.prepend(box);
    }
    box.textContent = message;
  };

  var failure = function (error) {
    if (error instanceof RequestError && error.status === 404) {
      return "Não encontrado: o registro não existe mais.";
    }
    if (error instanceof RequestError && error.status >= 500) {
      return "O servidor não respondeu (erro " + error.status + "). Tente de novo em instantes.";
    }
    return "Não foi possível falar com o servidor.";
  };

  var autorefresh = function () {
    var toggle = document.getElementById("autorefresh-switch");
    return !toggle || toggle.checked;
  };

  // Runs load() (a promise) now and again every pollInterval after it ends while the
  // autorefresh switch is on. A refusal (4xx) stops it and says why; a server error is retried.
  var poll = function (load) {
    var run = function () {
      if (!autorefresh()) {
        window.setTimeout(run, pollInterval);
        return;
      }
      load().then(function () {
        showError(null);
        window.setTimeout(run, pollInterval);
      }, function (error) {
        showError(failure(error));
        if (!(error instanceof RequestError) || error.status >= 500) {
          window.setTimeout(run, pollInterval * 2);
        }
      });
    };
    run();
  };

  // The shared confirmation dialog (Bootstrap 4's modal, with jQuery).
  var confirm = function (action, then) {
    var $modal = window.jQuery("#confirmation-modal");
    document.getElementById("confirmation-modal-action").textContent = action;
    var yes = document.getElementById("confirmation-modal-yes");
    var accept = function () {
      $modal.modal("hide");
      then();
    };
    var replaced = yes.cloneNode(true); // drops the previous question's handler
    yes.replaceWith(replaced);
    replaced.addEventListener("click", accept);
    $modal.modal("show");
  };

  // Runs a POST action and says when it fails.
  var act = function (url, then) {
    return post(url).then(function (data) {
      showError(null);
      if (then) { then(data); }
    }, function (error) { showError("A ação falhou. " + failure(error)); });
  };

  window.RQ = {
    urls: urls,
    getJSON: getJSON,
    post: post,
    act: act,
    fill: fill,
    toRelative: toRelative,
    toShort: toShort,
    poll: poll,
    confirm: confirm,
    showError: showError,
    page: document.getElementById("rq-page").dataset
  };
})();
