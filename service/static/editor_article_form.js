// The desk's article form: a small visual editor over the body's HTML box, and a slug
// from the title.  Without this script the form works as it is: the HTML box is the body.
// The visual editor starts from the body as the server sanitised it (never the raw typing),
// and coming back from "Edit HTML" asks the server for the same sanitising (body-preview).
(function () {
  "use strict";

  function slugOf(title) {
    return title.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "").slice(0, 80).replace(/-+$/, "");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("article-form");
    if (!form) { return; }
    var slug = document.getElementById("slug"), title = document.getElementById("title");
    if (slug && !slug.readOnly) {
      title.addEventListener("change", function () {
        if (!slug.value) { slug.value = slugOf(title.value); }
      });
    }

    var box = document.getElementById("body_html");
    var wrap = form.querySelector(".rich-text"), visual = document.getElementById("body-visual");
    var toggle = wrap.querySelector(".html-toggle");
    var commands = wrap.querySelectorAll("button[data-command]");
    var saved = null, note = document.createElement("p");
    note.className = "flash-error";
    note.setAttribute("role", "alert");
    box.parentNode.insertBefore(note, box.nextSibling);

    function showHtml(html) {
      visual.hidden = html; box.hidden = !html;
      toggle.setAttribute("aria-pressed", html ? "true" : "false");
      commands.forEach(function (button) { button.disabled = html; });
    }
    // The box follows the visual editor only once that is edited: an untouched form sends
    // the body exactly as it came (no new revision for nothing).
    function changed() { box.value = visual.innerHTML; }
    function run(command) {
      visual.focus();
      if (saved) {
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(saved);
      }
      if (command === "bold" || command === "italic") {
        document.execCommand(command);
      } else if (command === "link") {
        var url = window.prompt("Link address (https://…)", "https://");
        if (!url || url === "https://") { return; }
        document.execCommand("createLink", false, url);
      } else if (command === "list") {
        document.execCommand("insertUnorderedList");
      } else if (command === "quote") {
        document.execCommand("formatBlock", false, "blockquote");
      } else {
        document.execCommand("formatBlock", false, command);
      }
      changed();
    }

    wrap.hidden = false;
    document.execCommand("defaultParagraphSeparator", false, "p");
    var startInHtml = box.value.trim() !== "" && visual.innerHTML.trim() === "";
    if (!startInHtml && visual.innerHTML.trim() === "") { visual.innerHTML = "<p><br></p>"; }
    showHtml(startInHtml);

    document.addEventListener("selectionchange", function () {
      var selection = window.getSelection();
      if (selection.rangeCount && visual.contains(selection.anchorNode)) {
        saved = selection.getRangeAt(0).cloneRange();
      }
    });
    visual.addEventListener("input", changed);
    visual.addEventListener("keydown", function (event) {
      if (event.key === "k" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        run("link");
      }
    });
    commands.forEach(function (button) {
      button.addEventListener("mousedown", function (event) { event.preventDefault(); });
      button.addEventListener("click", function () { run(button.getAttribute("data-command")); });
    });
    toggle.addEventListener("click", function () {
      if (box.hidden) { showHtml(true); box.focus(); return; }
      var data = new FormData();
      data.append("csrf", form.querySelector("input[name=csrf]").value);
      data.append("body_html", box.value);
      fetch(form.getAttribute("data-preview"), {method: "POST", body: data,
                                                credentials: "same-origin"})
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          if (answer.error) { note.textContent = answer.error; return; }
          note.textContent = "";
          visual.innerHTML = answer.html || "<p><br></p>";
          saved = null;
          showHtml(false);
          visual.focus();
        })
        .catch(function () { note.textContent = "The preview could not be loaded; the HTML is kept."; });
    });
  });
})();
