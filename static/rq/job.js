/*
 * Painel SVA — the job dashboard (/rq): one job.
 *
 * Adapted from rq-dashboard 0.9 (rq_dashboard/templates/rq_dashboard/scripts/job.js),
 * Copyright 2011-2017 Vincent Driessen, 2017-2019 Vladimir Protasov, 2019 Parallels
 * International GmbH; BSD licence (2-clause): its notice, conditions and disclaimer are in
 * static/rq/LICENSE-rq-dashboard.txt. Changed for the panel:
 * a static file (no inline script), parameters from data-* attributes, rows built from <template>
 * elements with every value put in as text (see dashboard.js).
 */
(function (RQ) {
  "use strict";

  // Checked by the server before the page was rendered (RQ's id characters, a job that exists).
  var id = RQ.page.jobId;
  var data = document.getElementById("job-data");
  var requeue = document.getElementById("requeue-job-btn");
  var remove = document.getElementById("delete-job-btn");

  var when = function (iso) {
    return iso ? RQ.toRelative(iso) + " / " + RQ.toShort(iso) : "-";
  };

  var show = function (job) {
    var fragment = RQ.fill("job-info", {
      description: job.description,
      origin: job.origin,
      status: job.status,
      result: JSON.stringify(job.result, null, 2),
      metadata: job.metadata,
      created_at: when(job.created_at),
      enqueued_at: when(job.enqueued_at),
      started_at: when(job.started_at),
      ended_at: when(job.ended_at),
      exc_info: job.exc_info
    });
    var list = fragment.querySelector("[data-role=depends-on]");
    (job.depends_on || []).forEach(function (dependency, i) {
      var item = document.createElement("li");
      if ((job.depends_on_status || [])[i] === "active") {
        var link = document.createElement("a");
        link.setAttribute("href", RQ.urls.jobView(dependency));
        link.textContent = dependency;
        item.append(link);
      } else {
        item.textContent = dependency + " (expirada)";
      }
      list.append(item);
    });
    data.replaceChildren(fragment);
    requeue.hidden = job.status !== "failed";
  };

  var reload = function () {
    return RQ.getJSON(RQ.urls.job(id)).then(show);
  };

  RQ.poll(reload);

  if (remove) {
    remove.addEventListener("click", function () {
      RQ.confirm("apagar esta tarefa", function () {
        RQ.act(RQ.urls.deleteJob(id), function () { window.location.assign(RQ.urls.queuesView()); });
      });
    });
  }
  requeue.addEventListener("click", function () {
    RQ.act(RQ.urls.requeueJob(id), reload);
  });
})(window.RQ);
