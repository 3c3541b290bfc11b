// The post-editor's keyboard and focus mode (editor_translation.html).  Everything here is
// an improvement: without it every segment is listed with its own save form.  editor.js
// (loaded too) fits the boxes, saves with Ctrl+Enter, polls job progress and moves the
// rewrite tokens; this file shows one segment at a time between its neighbours and adds
// the other shortcuts (the help dialog lists them; docs/editor-workflow.md).
(function () {
  "use strict";

  var list, segments, current = null, showAll = false, submitting = null;

  function byPosition(position) {
    return document.getElementById("seg-" + position);
  }

  function boxOf(segment) {
    return segment ? segment.querySelector("textarea.segment-text") : null;
  }

  function fit(box) {
    if (!box || !box.offsetParent) { return; }
    box.style.height = "auto";
    box.style.height = (box.scrollHeight + 4) + "px";
  }

  function isDirty(segment) {
    var box = boxOf(segment);
    return !!box && box.value !== box.defaultValue;
  }

  function announce(segment) {
    var counter = document.getElementById("segment-counter");
    if (!counter || !segment) { return; }
    var index = segments.indexOf(segment);
    var flagged = segment.getAttribute("data-flagged") === "1" ? ", flagged" : "";
    counter.textContent = "Segment " + segment.getAttribute("data-position") + " · " +
      (index + 1) + " of " + segments.length + flagged;
  }

  function markMap(segment) {
    document.querySelectorAll("nav.segment-map a").forEach(function (link) {
      if (link.getAttribute("data-position") === segment.getAttribute("data-position")) {
        link.setAttribute("aria-current", "location");
      } else {
        link.removeAttribute("aria-current");
      }
    });
  }

  // Make ``segment`` the one being edited: shown with its neighbours in the list as
  // context (focus mode), its box focused with the cursor at the end.
  function select(segment, options) {
    if (!segment) { return; }
    options = options || {};
    var index = segments.indexOf(segment);
    segments.forEach(function (other, i) {
      other.classList.toggle("current", other === segment);
      other.classList.toggle("context", Math.abs(i - index) === 1);
    });
    current = segment;
    announce(segment);
    markMap(segment);
    var box = boxOf(segment);
    fit(box);
    if (options.focus !== false) {
      if (box) {
        box.focus({preventScroll: true});
        if (options.keepCursor !== true) {
          box.setSelectionRange(box.value.length, box.value.length);
        }
      } else {
        segment.focus({preventScroll: true});
      }
    }
    var top = (segments[index - 1] && !showAll) ? segments[index - 1] : segment;
    var place = segment.getBoundingClientRect();
    if (place.top < 0 || place.bottom > window.innerHeight) {
      top.scrollIntoView({block: "start"});
    }
  }

  function move(step, flaggedOnly) {
    var index = current ? segments.indexOf(current) : -1;
    for (var i = index + step; i >= 0 && i < segments.length; i += step) {
      if (!flaggedOnly || segments[i].getAttribute("data-flagged") === "1") {
        select(segments[i]);
        return true;
      }
    }
    return false;
  }

  function setShowAll(value) {
    showAll = value;
    list.classList.toggle("focus-mode", !showAll);
    var button = document.querySelector(".focus-controls .show-all");
    if (button) {
      button.setAttribute("aria-pressed", showAll ? "true" : "false");
      button.textContent = showAll ? "One segment at a time" : "Show every segment";
    }
    segments.forEach(function (segment) { fit(boxOf(segment)); });
    if (current) { select(current, {keepCursor: true}); }
  }

  // Text typed into a box as if by the editor (kept in the box's undo history).
  function insert(box, text, replaceAll) {
    box.focus();
    if (replaceAll) { box.select(); }
    if (!document.execCommand || !document.execCommand("insertText", false, text)) {
      var start = replaceAll ? 0 : box.selectionStart;
      var end = replaceAll ? box.value.length : box.selectionEnd;
      box.setRangeText(text, start, end, "end");
    }
    box.dispatchEvent(new Event("input", {bubbles: true}));
  }

  function copySource(segment) {
    var box = boxOf(segment);
    if (box && !box.readOnly) { insert(box, box.getAttribute("data-source"), true); }
  }

  // The segment's codes (what must come through as written) in order: the first one the
  // box holds fewer times than the source; when all are there, the next one in turn.
  var lastCode = {};
  function insertCode(segment) {
    var box = boxOf(segment);
    if (!box || box.readOnly) { return; }
    var codes = Array.prototype.map.call(segment.querySelectorAll("[data-code]"),
      function (element) { return element.getAttribute("data-code"); });
    if (!codes.length) { return; }
    var source = box.getAttribute("data-source");
    var missing = codes.filter(function (code) {
      return box.value.split(code).length < source.split(code).length;
    });
    var position = segment.getAttribute("data-position");
    var code = missing.length ? missing[0]
      : codes[(codes.indexOf(lastCode[position]) + 1) % codes.length];
    lastCode[position] = code;
    insert(box, code, false);
  }

  function save(segment, action) {
    var box = boxOf(segment);
    if (!box || box.readOnly) { return; }
    var form = box.form;
    var index = segments.indexOf(segment);
    var following = segments[index + 1];
    form.querySelector("input[name=next]").value =
      following ? following.getAttribute("data-position") : "";
    submitting = form;
    form.requestSubmit(form.querySelector("button[value=" + action + "]"));
  }

  function openHelp() {
    var help = document.getElementById("shortcuts-help");
    if (help && !help.open) { help.showModal(); }
  }

  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" ||
                      target.tagName === "SELECT" || target.isContentEditable);
  }

  function onKey(event) {
    var help = document.getElementById("shortcuts-help");
    if (help && help.open) { return; }  // the dialog handles Esc itself
    var segment = event.target.closest ? event.target.closest("li.segment") : null;
    if (segment && segment !== current) { select(segment, {focus: false}); }
    segment = segment || current;
    var key = event.key, code = event.code;
    if (key === "Enter" && (event.ctrlKey || event.metaKey) &&
        event.target.classList && event.target.classList.contains("segment-text")) {
      event.preventDefault();
      event.stopImmediatePropagation();  // editor.js's own Ctrl+Enter does not run too
      save(segment, event.shiftKey ? "review" : "save");
      return;
    }
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      if (key === "ArrowDown" || key === "ArrowUp") {
        if (event.target.classList && event.target.classList.contains("sentence-text")) {
          return;
        }
        event.preventDefault();
        move(key === "ArrowDown" ? 1 : -1, event.shiftKey);
        return;
      }
      if (code === "KeyC") { event.preventDefault(); copySource(segment); return; }
      if (code === "KeyI") { event.preventDefault(); insertCode(segment); return; }
      if (code === "KeyA") { event.preventDefault(); setShowAll(!showAll); return; }
      if (code === "Slash") { event.preventDefault(); openHelp(); return; }
    }
    if (key === "?" && !typing(event.target)) { event.preventDefault(); openHelp(); }
  }

  function start() {
    list = document.getElementById("post-editor");
    if (!list) { return; }
    segments = Array.prototype.slice.call(list.querySelectorAll("li.segment"));
    var controls = document.querySelector(".focus-controls");
    if (controls) { controls.hidden = false; }
    var hint = document.querySelector(".no-script-hint");
    if (hint) { hint.hidden = true; }
    // The codes to keep become buttons that put them at the cursor.
    list.querySelectorAll("code.inline-code").forEach(function (element) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "inline-code";
      button.setAttribute("data-code", element.getAttribute("data-code"));
      button.textContent = element.textContent;
      button.title = "Insert at the cursor";
      button.addEventListener("click", function () {
        var box = boxOf(button.closest("li.segment"));
        if (box && !box.readOnly) { insert(box, button.getAttribute("data-code"), false); }
      });
      element.replaceWith(button);
    });
    segments.forEach(function (segment) {
      var box = boxOf(segment);
      if (box) {
        box.addEventListener("input", function () {
          var link = document.querySelector("nav.segment-map a[data-position='" +
                                            segment.getAttribute("data-position") + "']");
          if (link) { link.classList.toggle("unsaved", isDirty(segment)); }
        });
      }
      segment.addEventListener("focusin", function () {
        if (segment !== current && showAll) { select(segment, {focus: false}); }
      });
    });
    document.addEventListener("keydown", onKey, true);
    var open = document.querySelector(".focus-controls .shortcuts-open");
    if (open) { open.addEventListener("click", openHelp); }
    var all = document.querySelector(".focus-controls .show-all");
    if (all) { all.addEventListener("click", function () { setShowAll(!showAll); }); }
    window.addEventListener("hashchange", function () {
      var match = /^#seg-(\d+)$/.exec(window.location.hash);
      if (match) { select(byPosition(match[1])); }
    });
    // Leaving the page with another segment's edit unsaved asks first.
    document.addEventListener("submit", function (event) { submitting = event.target; }, true);
    window.addEventListener("beforeunload", function (event) {
      var lost = segments.some(function (segment) {
        return isDirty(segment) && (!submitting || boxOf(segment).form !== submitting);
      });
      if (lost) { event.preventDefault(); event.returnValue = ""; }
    });
    list.classList.add("focus-mode");
  }

  // Which segment to open: ?focus=M (after "save and next"), #seg-N (the one just saved),
  // else the first of the list.
  function openFirst() {
    if (!list || !segments.length) { return; }
    var wanted = new URLSearchParams(window.location.search).get("focus");
    var match = /^#seg-(\d+)$/.exec(window.location.hash);
    var segment = (wanted && byPosition(wanted)) || (match && byPosition(match[1])) ||
      segments[0];
    select(segment, {focus: !!(wanted || match)});
  }

  document.addEventListener("DOMContentLoaded", start);
  window.addEventListener("load", openFirst);
})();
