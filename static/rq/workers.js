/*
 * Painel SVA — the job dashboard (/rq): the worker list.
 *
 * Adapted from rq-dashboard 0.9 (rq_dashboard/templates/rq_dashboard/scripts/workers.js),
 * Copyright 2011-2017 Vincent Driessen, 2017-2019 Vladimir Protasov, 2019 Parallels
 * International GmbH; BSD licence (2-clause): its notice, conditions and disclaimer are in
 * static/rq/LICENSE-rq-dashboard.txt. Changed for the panel:
 * a static file (no inline script), parameters from data-* attributes, rows built from <template>
 * elements with every value put in as text (see dashboard.js).
 */
(function (RQ) {
  "use strict";

  var tbody = document.querySelector("table#workers tbody");
  var count = document.getElementById("workers-count");

  var row = function (worker) {
    var job = worker.current_job;
    var busy = job && job !== "idle";
    return RQ.fill("worker-row", {
      name: worker.name,
      versions: worker.version && worker.python_version ? "RQ " + worker.version + " / Python " + worker.python_version : "",
      busy: busy,
      idle: !busy,
      current_job_summary: busy ? "Tarefa: " + job.job_id + "\nDescrição: " + (job.description || "") +
        "\nCriada: " + RQ.toRelative(job.created_at) : "",
      current_job_url: busy ? RQ.urls.jobView(job.job_id) : "",
      call_string: busy ? job.call_string : "",
      queue_names: (worker.queues || []).join(", ")
    });
  };

  RQ.poll(function () {
    return RQ.getJSON(RQ.urls.workers()).then(function (data) {
      var rows = data.workers.map(row);
      count.textContent = rows.length === 1 ? "1 worker registrado." : rows.length ? rows.length + " workers registrados." : "Nenhum worker registrado.";
      tbody.replaceChildren.apply(tbody, rows.length ? rows : [RQ.fill("no-workers-row", {})]);
    });
  });
})(window.RQ);
