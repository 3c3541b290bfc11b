// The editors' pages: everything here is an improvement; the pages work without it.
(function () {
  "use strict";

  // Edit boxes sized to their text, growing as the editor types.
  function fit(box) {
    box.style.height = "auto";
    box.style.height = (box.scrollHeight + 4) + "px";
  }

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("textarea.segment-text"));
  }

  // Ctrl+Enter (or Cmd+Enter): save this segment and go on to the next one.
  function saveAndNext(event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) { return; }
    event.preventDefault();
    var form = event.target.form;
    var all = boxes();
    var following = all[all.indexOf(event.target) + 1];
    form.querySelector("input[name=next]").value =
      following ? following.getAttribute("data-position") : "";
    form.requestSubmit(form.querySelector("button[value=save]"));
  }

  // After a save the page comes back at #seg-N: put the cursor in that segment's box.
  function focusTarget() {
    var match = /^#seg-(\d+)$/.exec(window.location.hash);
    if (!match) { return; }
    var box = document.querySelector("textarea.segment-text[data-position='" + match[1] + "']");
    if (box) {
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
      box.closest("tr").classList.add("current");
    }
  }

  // Live job progress: poll the page's progress URL until the job ends, then reload.
  function pollProgress() {
    var box = document.getElementById("job-progress");
    if (!box || !box.getAttribute("data-url")) { return; }
    var url = box.getAttribute("data-url");
    function tick() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.json(); })
        .then(function (job) {
          var text = job.status + " (" + job.progress.done + "/" + job.progress.total + ")";
          box.querySelector(".progress").textContent = text;
          box.setAttribute("data-status", job.status);
          if (job.status === "done" || job.status === "failed") {
            window.location.reload();
          } else {
            window.setTimeout(tick, 1500);
          }
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    window.setTimeout(tick, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    boxes().forEach(function (box) {
      fit(box);
      box.addEventListener("input", function () { fit(box); });
      box.addEventListener("keydown", saveAndNext);
    });
    focusTarget();
    pollProgress();
  });
})();
