/* The "Select Language" dropdown of reader pages: choosing a language submits its form.
 *
 * The form works without JavaScript (a "Go" button in <noscript>); this only saves the
 * reader a click.  It lives in a file, not an onchange attribute, because the site's
 * Content-Security-Policy allows no inline script.
 */
(function () {
  "use strict";
  function init() {
    var selects = document.querySelectorAll("form.language-select select[name=lang]");
    Array.prototype.forEach.call(selects, function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else { init(); }
})();
