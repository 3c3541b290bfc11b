/* localiser language selector for pages of the existing site.
 *
 *   <div data-localiser-selector data-slug="ARTICLE-SLUG" data-lang="en"></div>
 *   <script src="https://LOCALISER-HOST/embed/selector.js" defer></script>
 *
 * Fills each such element with a "Select Language" <select> of the article's published
 * translations (and pending ones, marked), and navigates to the chosen page.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var origin = new URL(script ? script.src : "/", window.location.href).origin;
  function build(host, data) {
    var current = host.getAttribute("data-lang") || data.languages[0].code;
    var select = document.createElement("select");
    select.setAttribute("aria-label", host.getAttribute("data-label") || "Select Language");
    data.languages.forEach(function (language) {
      var option = document.createElement("option");
      option.value = new URL(language.url, origin + "/").href;  // relative without SITE_URL
      option.lang = language.code;
      option.dir = language.dir;
      option.textContent = language.native_name + (language.status === "pending" ? " …" : "");
      option.selected = language.code === current;
      option.setAttribute("data-code", language.code);
      select.appendChild(option);
    });
    select.addEventListener("change", function () { window.location.href = select.value; });
    host.textContent = "";
    host.appendChild(select);
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
