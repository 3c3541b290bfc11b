// The desk's live states: a long poll (GET /editor/states?wait=S) answered when a
// language of an article on the page changes; the answer's cells, rendered by the same
// template as the page, replace the old ones (ticked boxes stay ticked).  Without this
// script the page works the same and is as fresh as its last load.
(function () {
  "use strict";

  var WAIT_S = 20;

  function live(table) {
    var rows = Array.prototype.slice.call(table.querySelectorAll("tr.article"));
    if (!rows.length) { return; }
    var slugs = rows.map(function (row) { return row.getAttribute("data-slug"); });
    var version = table.getAttribute("data-version");

    function swap(cells) {
      Object.keys(cells).forEach(function (slug) {
        var row = document.getElementById("article-" + slug);
        var cell = row && row.querySelector("td.languages");
        if (!cell) { return; }
        var ticked = {};
        cell.querySelectorAll("input.row-select:checked").forEach(function (box) {
          ticked[box.value] = true;
        });
        var focused = cell.contains(document.activeElement) &&
          document.activeElement.matches("input.row-select") ? document.activeElement.value : null;
        if (cell.innerHTML.trim() === cells[slug].trim()) { return; }
        cell.innerHTML = cells[slug];
        cell.querySelectorAll("input.row-select").forEach(function (box) {
          box.checked = !!ticked[box.value];
          if (box.value === focused) { box.focus(); }  // a keyboard user stays where they were
        });
        cell.classList.add("changed");
        window.setTimeout(function () { cell.classList.remove("changed"); }, 1500);
      });
    }

    function poll() {
      var asked = Date.now();
      var url = table.getAttribute("data-live-url") + "?" + new URLSearchParams({
        slugs: slugs.join(","), version: version, wait: String(WAIT_S),
        back: table.getAttribute("data-back") || ""
      }).toString();
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (body) {
          var changed = body.version !== version;
          if (changed) { swap(body.cells); }
          version = body.version;
          table.setAttribute("data-version", version);
          // An unchanged answer that came at once: the server had no waiting slot free
          // (JOB_WAIT_SLOTS); ask again a little later instead of at once.
          var early = !changed && Date.now() - asked < 1000;
          window.setTimeout(poll, early ? 3000 : 100);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    poll();
  }

  // "Select every draft" / "Clear the selection": buttons only a script can work, so
  // the script adds them (without it, each row's box is ticked by hand).
  function selectionButtons(form, table) {
    var place = form.querySelector("fieldset");
    if (!place) { return; }
    [["select-drafts", "Select every draft on this page", function (li) {
      return li.getAttribute("data-state") === "draft";
    }], ["select-none", "Clear the selection", function () { return false; }]]
      .forEach(function (spec) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = spec[0];
        button.textContent = spec[1];
        button.addEventListener("click", function () {
          table.querySelectorAll("li[data-state] input.row-select").forEach(function (box) {
            box.checked = spec[2](box.closest("li"));
          });
        });
        place.appendChild(button);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("desk");
    var form = document.getElementById("bulk");
    if (table && form) { selectionButtons(form, table); }
    if (table && table.getAttribute("data-live-url")) { live(table); }
  });
})();
