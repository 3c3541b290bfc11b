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

  // After a save the page comes back at #seg-N (the saved segment and its message in
  // view); the cursor goes to ?focus=M (Ctrl+Enter: the next segment) or to N.
  function focusTarget() {
    var wanted = new URLSearchParams(window.location.search).get("focus");
    var match = /^#seg-(\d+)$/.exec(window.location.hash);
    var position = wanted || (match && match[1]);
    if (!position) { return; }
    var box = document.querySelector("textarea.segment-text[data-position='" + position + "']");
    if (box) {
      box.focus({preventScroll: true});
      box.setSelectionRange(box.value.length, box.value.length);
      var row = box.closest("tr, li.segment");
      if (row) { row.classList.add("current"); }
      var place = box.getBoundingClientRect();
      if (place.bottom > window.innerHeight) { box.scrollIntoView({block: "nearest"}); }
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

  // In "Rewrite the whole sentence", Alt+Left/Right moves the token under the cursor
  // ([1] or [/1]) past the word before or after it, to fit the language's word order.
  function moveToken(event) {
    if (!event.altKey || (event.key !== "ArrowLeft" && event.key !== "ArrowRight")) { return; }
    var box = event.target, text = box.value, at = box.selectionStart;
    var token = /\[\/?\d+\]/g, found = null, m;
    while ((m = token.exec(text)) !== null) {
      if (m.index <= at && at <= m.index + m[0].length) { found = m; break; }
    }
    if (!found) { return; }
    event.preventDefault();
    var before = text.slice(0, found.index), after = text.slice(found.index + found[0].length);
    if (event.key === "ArrowLeft") {
      var word = /(\S+\s*)$/.exec(before);
      if (!word) { return; }
      box.value = before.slice(0, before.length - word[0].length) + found[0] + word[0] + after;
      at = found.index - word[0].length;
    } else {
      var next = /^(\s*\S+)/.exec(after);
      if (!next) { return; }
      box.value = before + next[0] + found[0] + after.slice(next[0].length);
      at = found.index + next[0].length;
    }
    box.setSelectionRange(at, at);
  }

  document.addEventListener("DOMContentLoaded", function () {
    boxes().forEach(function (box) {
      fit(box);
      box.addEventListener("input", function () { fit(box); });
      box.addEventListener("keydown", saveAndNext);
    });
    document.querySelectorAll("textarea.sentence-text").forEach(function (box) {
      box.addEventListener("keydown", moveToken);
    });
    pollProgress();
  });
  // After the browser has scrolled to the fragment (it may move focus while doing so).
  window.addEventListener("load", function () {
    focusTarget();
  });
})();
