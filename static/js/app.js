// Painel SVA: the only script the pages run (the CSP forbids inline script).
(function () {
  "use strict";

  // Messages that stay until read: a flashed message (#messages [data-message]) has no timer and
  // stays until its close button. When the page reloads itself (its job has ended), the messages
  // still shown are kept in sessionStorage under the page's address and shown again after the
  // reload, unless the server sent new ones; a message closed before the reload is not kept.
  var MESSAGES_KEY = "painel:messages:" + window.location.pathname + window.location.search;
  var messagesRegion = document.getElementById("messages");
  var keepMessages = function () {
    if (!messagesRegion) { return; }
    var shown = Array.prototype.map.call(messagesRegion.querySelectorAll("[data-message]"), function (message) {
      return message.outerHTML;
    });
    try {
      if (shown.length) {
        window.sessionStorage.setItem(MESSAGES_KEY, shown.join(""));
      } else {
        window.sessionStorage.removeItem(MESSAGES_KEY);
      }
    } catch (error) { /* storage off or full: the messages go with the page */ }
  };
  var restoreMessages = function () {
    var kept = null;
    try {
      kept = window.sessionStorage.getItem(MESSAGES_KEY);
      window.sessionStorage.removeItem(MESSAGES_KEY);  // once: a later visit starts clean
    } catch (error) { return; }
    if (!kept || !messagesRegion || messagesRegion.querySelector("[data-message]")) { return; }
    var holder = document.createElement("template");
    holder.innerHTML = kept;
    // Only the alerts this page itself drew are put back (nothing else was ever stored).
    Array.prototype.forEach.call(holder.content.querySelectorAll("[data-message]"), function (message) {
      messagesRegion.appendChild(message);
    });
  };
  restoreMessages();

  // The error summary of a refused form takes the focus, so a keyboard or screen reader user
  // starts from the list of what to fix; each of its links puts the focus on its field (or on
  // the first input of a group of checkboxes).
  var errorSummary = document.querySelector("[data-error-summary]");
  if (errorSummary) {
    errorSummary.focus();
    errorSummary.addEventListener("click", function (event) {
      var anchor = event.target.closest && event.target.closest("a[href^='#']");
      var target = anchor && document.getElementById(anchor.getAttribute("href").slice(1));
      if (!target) { return; }
      var field = target.matches("input, select, textarea, button") ? target :
        target.querySelector("input:not([type=hidden]), select, textarea");
      if (!field) { return; }
      event.preventDefault();
      field.focus();
      field.scrollIntoView({ block: "center" });
    });
  }

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

  // Platform accounts: only the chosen kind's own credential fields are shown (the kind declares them).
  document.addEventListener("change", function (event) {
    var input = event.target;
    var form = input.closest && input.closest("form[data-kind-fields]");
    if (!form || input.name !== "kind") { return; }
    form.querySelectorAll("[data-for-kinds]").forEach(function (box) {
      box.hidden = box.dataset.forKinds.split(" ").indexOf(input.value) < 0;
    });
  });

  // Phone width: a list table (class table-cards) shows each row as a card, each cell labelled
  // by its column (static/css/app.css reads data-label). The label is the column header's text,
  // copied into every cell of the body and foot; a header without text (the actions column, the
  // tick-all box) labels nothing. Run again on the rows the polling below puts in place.
  var labelCells = function (root) {
    var tables = root.matches && root.matches("table.table-cards") ? [root] :
      Array.prototype.slice.call(root.querySelectorAll("table.table-cards"));
    if (!tables.length && root.closest) {
      var around = root.closest("table.table-cards");
      if (around) { tables = [around]; }
    }
    tables.forEach(function (table) {
      var headers = [];
      var headRow = table.tHead && table.tHead.rows[0];
      if (!headRow) { return; }
      Array.prototype.forEach.call(headRow.cells, function (th) {
        var text = th.textContent.replace(/\s+/g, " ").trim();
        for (var span = 0; span < (th.colSpan || 1); span++) { headers.push(text); }
      });
      Array.prototype.forEach.call(table.querySelectorAll(":scope > tbody > tr, :scope > tfoot > tr"), function (tr) {
        var column = 0;
        Array.prototype.forEach.call(tr.cells, function (td) {
          var label = td.colSpan > 1 ? "" : (headers[column] || "");
          if (label) {
            if (td.getAttribute("data-label") !== label) { td.setAttribute("data-label", label); }
          } else if (td.hasAttribute("data-label")) {
            td.removeAttribute("data-label");
          }
          column += td.colSpan || 1;
        });
      });
    });
  };
  labelCells(document);

  // Following what a job is still producing, until it is final.
  // - A box with data-poll-url (the contract's subscriber box, a platform check, the régua's
  //   progress) asks for its own fresh fragment; once the fresh one has no data-poll-url the job
  //   has finished and, with data-reload-when-done, the page reloads.
  // - The rows of a list carry data-poll-batch (the URL), data-poll-group and data-poll-id: every
  //   row of the page is asked for in ONE request per round (GET <batch>&<group>=1,2,3 answers
  //   {"<group>": {"<id>": "<fresh fragment>"}}); a row whose fresh fragment has no
  //   data-poll-batch (finished) or that is no longer there (gone) is not asked for again, and
  //   the page stops asking when none is left.
  // The first check comes after 300 ms, and so do the next ones for 1.5 s (most operations end
  // within that: the row shows it at most 300 ms late); then, while nothing changes, the wait
  // grows by half up to 5 s, and a change brings it back to 300 ms. A server error or no answer waits longer (doubling
  // up to 30 s); a refusal (4xx: the record is gone, no permission) stops; a redirect means the
  // session ended, and reloading shows the login page. A page in the background asks nothing
  // until it is shown again, and then asks at once.
  var FIRST_WAIT = 300, FAST_FOR = 1500, LONGEST_WAIT = 5000, LONGEST_ERROR_WAIT = 30000;

  // Reloading while the page is being left (a link followed, an address typed) would cancel
  // that navigation: while one started in the last 10 s, the reload waits. A page still here
  // after that (the link was a download) reloads then.
  var leftAt = -Infinity;
  window.addEventListener("beforeunload", function () { leftAt = Date.now(); });
  var reload = function () {
    if (Date.now() - leftAt < 10000) { window.setTimeout(reload, 1000); return; }
    keepMessages();
    window.location.reload();
  };

  // Runs round(next) after each wait; round calls next("changed" | "same" | "error" | "stop").
  var schedule = function (round) {
    var wait = FIRST_WAIT, asleep = false, changedAt = Date.now();
    var tick = function () {
      if (document.hidden) { asleep = true; return; }
      round(next);
    };
    var next = function (outcome) {
      if (outcome === "stop") { document.removeEventListener("visibilitychange", wake); return; }
      if (outcome === "changed") {
        wait = FIRST_WAIT;
        changedAt = Date.now();
      } else if (outcome === "error") {
        wait = Math.min(Math.max(wait, 1000) * 2, LONGEST_ERROR_WAIT);
      } else if (Date.now() - changedAt >= FAST_FOR) {
        wait = Math.min(Math.round(wait * 1.5), LONGEST_WAIT);
      }
      window.setTimeout(tick, wait);
    };
    var wake = function () {
      if (!document.hidden && asleep) {
        asleep = false;
        wait = FIRST_WAIT;
        changedAt = Date.now();
        round(next);
      }
    };
    document.addEventListener("visibilitychange", wake);
    window.setTimeout(tick, wait);
  };

  // One request: resolves to {body} or to {outcome: "error" | "stop"}.
  var ask = function (url, json) {
    return fetch(url, { headers: { Accept: json ? "application/json" : "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.redirected) { reload(); return { outcome: "stop" }; }
        if (response.status >= 500) { return { outcome: "error" }; }
        if (!response.ok) { return { outcome: "stop" }; }
        return (json ? response.json() : response.text()).then(function (body) { return { body: body }; });
      })
      .catch(function () { return { outcome: "error" }; });
  };

  var fragment = function (html) {
    var holder = document.createElement("template");
    holder.innerHTML = String(html).trim();
    var fresh = holder.content.firstElementChild;
    return fresh && fresh.hasAttribute("data-poll-fragment") ? fresh : null;
  };

  var words = function (element) { return element.textContent.replace(/\s+/g, " ").trim(); };
  var following = function (element) {
    return [element.dataset.pollUrl, element.dataset.pollBatch].join(" ");
  };

  // Brings the shown element to the fresh one while keeping the nodes both share (a live region
  // stays the same node, so screen readers announce what changed in it, and focus stays put).
  var onlyElements = function (element) {
    return Array.prototype.every.call(element.childNodes, function (node) {
      return node.nodeType === Node.ELEMENT_NODE || (node.nodeType === Node.TEXT_NODE && !node.textContent.trim());
    });
  };
  var morph = function (shown, fresh) {
    Array.prototype.slice.call(shown.attributes).forEach(function (attribute) {
      if (!fresh.hasAttribute(attribute.name)) { shown.removeAttribute(attribute.name); }
    });
    Array.prototype.forEach.call(fresh.attributes, function (attribute) {
      if (shown.getAttribute(attribute.name) !== attribute.value) { shown.setAttribute(attribute.name, attribute.value); }
    });
    var before = shown.children, after = fresh.children;
    var sameShape = onlyElements(shown) && onlyElements(fresh) && before.length === after.length &&
      Array.prototype.every.call(before, function (child, index) { return child.tagName === after[index].tagName; });
    if (sameShape) {
      var pairs = Array.prototype.map.call(before, function (child, index) { return [child, after[index]]; });
      pairs.forEach(function (pair) { morph(pair[0], pair[1]); });
    } else {
      shown.replaceChildren.apply(shown, Array.prototype.slice.call(fresh.childNodes));
    }
  };

  // Shows the fresh fragment in place of the shown one if anything in it changed: its words, or
  // whether it is still followed. Returns whether it did.
  var update = function (shown, fresh) {
    if (words(shown) === words(fresh) && following(shown) === following(fresh)) { return false; }
    morph(shown, fresh);
    return true;
  };

  var followBox = function (box) {
    schedule(function (next) {
      ask(box.dataset.pollUrl, false).then(function (answer) {
        if (answer.outcome) { next(answer.outcome); return; }
        var fresh = fragment(answer.body);
        if (!fresh) { next("stop"); return; }
        var reloadWhenDone = box.hasAttribute("data-reload-when-done");
        var changed = update(box, fresh);
        if (changed) { labelCells(box); }
        if (box.dataset.pollUrl) {
          next(changed ? "changed" : "same");
        } else {
          next("stop");
          if (reloadWhenDone) { reload(); }
        }
      });
    });
  };

  var followRows = function (batchUrl) {
    var rows = function () {
      return Array.prototype.filter.call(document.querySelectorAll("[data-poll-batch]"), function (row) {
        return row.dataset.pollBatch === batchUrl;
      });
    };
    schedule(function (next) {
      var shown = rows();
      if (!shown.length) { next("stop"); return; }
      var url = new URL(batchUrl, window.location.href);
      var groups = {};
      shown.forEach(function (row) {
        var ids = groups[row.dataset.pollGroup] = groups[row.dataset.pollGroup] || [];
        if (ids.indexOf(row.dataset.pollId) < 0) { ids.push(row.dataset.pollId); }
      });
      Object.keys(groups).forEach(function (group) { url.searchParams.set(group, groups[group].join(",")); });
      ask(url.toString(), true).then(function (answer) {
        if (answer.outcome) { next(answer.outcome); return; }
        var changed = false;
        shown.forEach(function (row) {
          var html = (answer.body[row.dataset.pollGroup] || {})[row.dataset.pollId];
          var fresh = html === undefined ? null : fragment(html);
          if (!fresh) {  // gone (or not a fragment): shown as it is, no longer followed
            row.removeAttribute("data-poll-batch");
            return;
          }
          if (update(row, fresh)) {
            changed = true;
            labelCells(row);  // a fresh row's cells come without their column labels
          }
        });
        next(rows().length ? (changed ? "changed" : "same") : "stop");
      });
    });
  };

  if (window.fetch && window.URL) {
    document.querySelectorAll("[data-poll-url]").forEach(followBox);
    var batches = [];
    document.querySelectorAll("[data-poll-batch]").forEach(function (row) {
      if (batches.indexOf(row.dataset.pollBatch) < 0) { batches.push(row.dataset.pollBatch); }
    });
    batches.forEach(followRows);
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
      var contracts = ticked === 1 ? " contrato marcado" : " contratos marcados";
      count.textContent = ticked ? ticked + contracts + "." : "Nenhum contrato marcado.";
      if (all) {
        all.checked = ticked > 0 && ticked === every.length;
        all.indeterminate = ticked > 0 && ticked < every.length;
      }
      button.disabled = !(ticked && action.value);
      if (action.value) {
        form.dataset.confirm = action.options[action.selectedIndex].text + ": aplicar a" +
          (ticked === 1 ? "o contrato marcado" : "os " + ticked + " contratos marcados") +
          "? Cada um é conferido; os que não aceitarem a ação são recusados.";
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
