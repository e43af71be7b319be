/*
 * Painel SVA — the job dashboard (/rq): the queue list.
 *
 * Adapted from rq-dashboard 0.9 (rq_dashboard/templates/rq_dashboard/scripts/queues.js),
 * Copyright 2011-2017 Vincent Driessen, 2017-2019 Vladimir Protasov, 2019 Parallels
 * International GmbH; BSD licence (2-clause): its notice, conditions and disclaimer are in
 * static/rq/LICENSE-rq-dashboard.txt. Changed for the panel:
 * a static file (no inline script), parameters from data-* attributes, rows built from <template>
 * elements with every value put in as text (see dashboard.js).
 */
(function (RQ) {
  "use strict";

  var tbody = document.querySelector("table#queues tbody");

  RQ.poll(function () {
    return RQ.getJSON(RQ.urls.queues()).then(function (data) {
      var rows = data.queues.map(function (queue) { return RQ.fill("queue-row", queue); });
      tbody.replaceChildren.apply(tbody, rows.length ? rows : [RQ.fill("no-queues-row", {})]);
    });
  });
})(window.RQ);
