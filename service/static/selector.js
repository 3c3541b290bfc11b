/* localiser language selector for pages of the existing site.
 *
 *   <div data-localiser-selector data-slug="ARTICLE-SLUG" data-lang="en"></div>
 *   <script src="https://LOCALISER-HOST/embed/selector.js" defer></script>
 *
 * Fills each such element with a visible, bilingual label ("Select Language / भाषा चुनें",
 * or the element's data-label) with a globe icon and a <select> of the article's original
 * and published translations (pending ones marked), and navigates to the chosen page: the
 * URLs come from the languages API, so with SITE_URL they are the site's own /hi/... URLs.
 *
 * The reader's choice is remembered in this site's localStorage ("localiser.lang"): on
 * the next article the selector offers "हिन्दी में पढ़ना जारी रखें" (Continue in Hindi; a
 * link, never an automatic redirect: the newsroom's own page stays what crawlers and
 * shared links see).  A reader who has chosen nothing yet and whose browser asks for one of
 * the article's languages (navigator.languages) is asked once "इसे हिन्दी में पढ़ें?" (Read
 * this in Hindi?); the question is not repeated ("localiser.suggested").  Each offer is
 * written in the language it offers, from that language's catalog (the API's "prompts").
 * No inline styles or scripts are needed by the embedding page.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var origin = new URL(script ? script.src : "/", window.location.href).origin;
  var CHOICE = "localiser.lang", SUGGESTED = "localiser.suggested";
  var DEFAULT_LABEL = "Select Language / भाषा चुनें";
  var SVG = "http://www.w3.org/2000/svg";

  function stored(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function store(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode */ }
  }

  function globe() {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "localiser-globe");
    svg.style.verticalAlign = "middle";
    [["circle", {cx: "12", cy: "12", r: "10"}],
     ["ellipse", {cx: "12", cy: "12", rx: "4", ry: "10"}],
     ["path", {d: "M2 12h20M4 7h16M4 17h16"}]].forEach(function (shape) {
      var node = document.createElementNS(SVG, shape[0]);
      Object.keys(shape[1]).forEach(function (k) { node.setAttribute(k, shape[1][k]); });
      node.setAttribute("fill", "none");
      node.setAttribute("stroke", "currentColor");
      node.setAttribute("stroke-width", "1.5");
      svg.appendChild(node);
    });
    return svg;
  }

  function prompt(host, language, text, onDismiss) {
    var bar = document.createElement("p");
    bar.className = "localiser-prompt";
    bar.setAttribute("role", "status");
    bar.lang = language.code;  // the offer is written in the language it offers
    bar.dir = language.dir;
    bar.style.margin = "0.4em 0";
    var link = document.createElement("a");
    link.href = language.href;
    link.textContent = text;
    link.lang = language.code;
    link.className = "localiser-prompt-link";
    link.addEventListener("click", function () { store(CHOICE, language.code); });
    var close = document.createElement("button");
    close.type = "button";
    close.className = "localiser-prompt-dismiss";
    close.setAttribute("aria-label", language.prompts.dismiss);
    close.textContent = "×";
    close.style.marginInlineStart = "0.5em";
    close.addEventListener("click", function () {
      bar.parentNode.removeChild(bar);
      if (onDismiss) { onDismiss(); }
    });
    bar.appendChild(link);
    bar.appendChild(close);
    host.appendChild(bar);
  }

  // An older localiser's API sends no prompts: ask in English, as before.
  function englishPrompts(language) {
    return {read: "Read this in " + language.native_name + "?",
            "continue": "Continue in " + language.native_name, dismiss: "Dismiss"};
  }

  function browserLanguage(readable) {
    var wanted = navigator.languages || [navigator.language || ""];
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i]).toLowerCase().split("-")[0];
      if (readable[code]) { return readable[code]; }
    }
    return null;
  }

  function build(host, data) {
    var current = host.getAttribute("data-lang") || data.languages[0].code;
    var readable = {};
    var label = document.createElement("label");
    label.className = "localiser-label";
    var text = document.createElement("span");
    text.className = "localiser-label-text";
    text.textContent = " " + (host.getAttribute("data-label") || DEFAULT_LABEL) + " ";
    var select = document.createElement("select");
    data.languages.forEach(function (language) {
      var option = document.createElement("option");
      var href = new URL(language.url, origin + "/").href;  // relative without SITE_URL
      option.value = href;
      option.lang = language.code;
      option.dir = language.dir;
      option.textContent = language.native_name + (language.status === "pending" ? " …" : "");
      option.selected = language.code === current;
      option.setAttribute("data-code", language.code);
      select.appendChild(option);
      if (language.status !== "pending") {
        readable[language.code] = {code: language.code, dir: language.dir, href: href,
                                   name: language.native_name,
                                   prompts: language.prompts || englishPrompts(language)};
      }
    });
    select.addEventListener("change", function () {
      store(CHOICE, select.options[select.selectedIndex].getAttribute("data-code"));
      window.location.href = select.value;
    });
    label.appendChild(globe());
    label.appendChild(text);
    label.appendChild(select);
    host.textContent = "";
    host.appendChild(label);

    var remembered = stored(CHOICE);
    if (remembered && remembered !== current && readable[remembered]) {
      prompt(host, readable[remembered], readable[remembered].prompts["continue"]);
    } else if (!remembered && !stored(SUGGESTED)) {
      var suggestion = browserLanguage(readable);
      if (suggestion && suggestion.code !== current) {
        store(SUGGESTED, "asked");  // asked once, whatever the reader does
        prompt(host, suggestion, suggestion.prompts.read, function () {
          store(SUGGESTED, "dismissed");
        });
      }
    }
  }

  function init() {
    var hosts = document.querySelectorAll("[data-localiser-selector]");
    Array.prototype.forEach.call(hosts, function (host) {
      var slug = host.getAttribute("data-slug");
      if (!slug) { return; }
      fetch(origin + "/api/v1/articles/" + encodeURIComponent(slug) + "/languages")
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) { build(host, data); })
        .catch(function () { host.setAttribute("data-localiser-error", "unavailable"); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else { init(); }
})();
