// The glossary page: the progress of "apply to existing translations", polled until every
// job of the run has finished.  Without this script the page has a Refresh link.
(function () {
  "use strict";

  function poll(section) {
    var url = section.getAttribute("data-url");
    function show(counts) {
      var total = counts.queued + counts.running + counts.done + counts.failed;
      section.querySelector(".done").textContent = counts.done;
      section.querySelector(".total").textContent = total;
      section.querySelector(".pending").textContent = counts.queued + counts.running;
      var bar = section.querySelector("progress");
      bar.max = Math.max(total, 1);
      bar.value = counts.done + counts.failed;
      var failed = section.querySelector(".failed");
      if (failed) { failed.textContent = counts.failed; }
      section.setAttribute("data-finished", counts.finished ? "true" : "false");
    }
    function tick() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.json(); })
        .then(function (counts) {
          show(counts);
          if (!counts.finished) { window.setTimeout(tick, 1500); }
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    window.setTimeout(tick, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.getElementById("apply-progress");
    if (section && section.getAttribute("data-finished") !== "true") { poll(section); }
  });
})();
