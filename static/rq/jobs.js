/*
 * Painel SVA — the job dashboard (/rq): a queue's jobs, one registry, page by page.
 *
 * Adapted from rq-dashboard 0.9 (rq_dashboard/templates/rq_dashboard/scripts/jobs.js),
 * Copyright 2011-2017 Vincent Driessen, 2017-2019 Vladimir Protasov, 2019 Parallels
 * International GmbH; BSD licence (2-clause): its notice, conditions and disclaimer are in
 * static/rq/LICENSE-rq-dashboard.txt. Changed for the panel:
 * a static file (no inline script), parameters from data-* attributes, rows built from <template>
 * elements with every value put in as text (see dashboard.js).
 */
(function (RQ) {
  "use strict";

  // Checked by the server before the page was rendered (an unknown one is 404).
  var queue = RQ.page.queue;
  var registry = RQ.page.registry;
  var perPage = RQ.page.perPage;
  var order = RQ.page.order;
  var page = Number(RQ.page.page);

  var tbody = document.querySelector("table#jobs tbody");
  var pagination = document.querySelector("#page-selection ul");

  var pageItem = function (label, url, state) {
    var item = document.createElement("li");
    item.className = "page-item" + (state ? " " + state : "");
    var link = document.createElement(state === "disabled" ? "span" : "a");
    link.className = "page-link";
    link.textContent = label;
    if (state !== "disabled") { link.setAttribute("href", /^\/(?![\/\\])/.test(url || "") ? url : "#"); }
    item.append(link);
    return item;
  };

  var showPages = function (pages) {
    var none = !pages.num_pages;
    var items = [
      pageItem("«", pages.first_page && pages.first_page.url, pages.current_page === 1 || none ? "disabled" : ""),
      pages.prev_page && !none ? pageItem("‹", pages.prev_page.url) : pageItem("‹", null, "disabled")
    ];
    (pages.pages_in_window || []).forEach(function (each) {
      items.push(pageItem(String(each.number), each.url, each.number === page ? "active" : ""));
    });
    items.push(pages.next_page ? pageItem("›", pages.next_page.url) : pageItem("›", null, "disabled"));
    items.push(pageItem("»", pages.last_page && pages.last_page.url,
      pages.current_page === pages.num_pages || none ? "disabled" : ""));
    pagination.replaceChildren.apply(pagination, items);
  };

  var row = function (job) {
    var fragment = RQ.fill("job-row", {
      id: job.id,
      url: RQ.urls.jobView(job.id),
      description: job.description,
      exc_info: job.exc_info,
      ended_at: RQ.toRelative(job.ended_at),
      created_at: RQ.toRelative(job.created_at),
      created_at_full: RQ.toShort(job.created_at)
    });
    fragment.querySelector("tr").dataset.jobId = job.id;
    return fragment;
  };

  var reload = function () {
    return RQ.getJSON(RQ.urls.jobs(queue, registry, perPage, order, page)).then(function (data) {
      var rows = data.jobs.map(row);
      tbody.replaceChildren.apply(tbody, rows.length ? rows : [RQ.fill("no-jobs-row", {})]);
      showPages(data.pagination);
    });
  };

  RQ.poll(reload);

  // A row's buttons: delete (after a confirmation) and requeue a failed job.
  tbody.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-role]");
    if (!button) { return; }
    var tr = button.closest("tr");
    var id = tr.dataset.jobId;
    if (button.dataset.role === "delete-job-btn") {
      RQ.confirm("apagar a tarefa " + id, function () {
        RQ.act(RQ.urls.deleteJob(id), function () { tr.remove(); });
      });
    } else if (button.dataset.role === "requeue-job-btn") {
      RQ.act(RQ.urls.requeueJob(id), function () { tr.remove(); });
    }
  });

  // The buttons above the table (their URLs were written by the server, autoescaped).
  [["empty-btn", "esvaziar este registro", true], ["compact-btn", "compactar a fila", false],
   ["requeue-all-btn", "reenfileirar todas as tarefas com falha", true]].forEach(function (each) {
    var button = document.getElementById(each[0]);
    if (!button) { return; }
    button.addEventListener("click", function () {
      RQ.confirm(each[1], function () {
        RQ.act(button.dataset.url, function () { if (each[2]) { reload(); } });
      });
    });
  });

  // Another queue, registry, order or page size: open its first page.
  var go = function () {
    var size = Math.min(Math.max(parseInt(document.getElementById("select-per-page").value, 10) || 8, 1), 200);
    window.location.assign(RQ.urls.jobsView(document.getElementById("select-queue").value,
      document.getElementById("select-registry").value, size,
      document.getElementById("select-sort-order").value, 1));
  };
  ["select-queue", "select-registry", "select-sort-order", "select-per-page"].forEach(function (id) {
    document.getElementById(id).addEventListener("change", go);
  });
})(window.RQ);
