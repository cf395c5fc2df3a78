/* Accessibility helpers for every page (GB/T 37668, WCAG 2.1 AA); no inline script needed.
 *
 * - Form errors: each field whose wrapper has class "has-error" gets aria-invalid="true" and
 *   aria-describedby pointing at its error list; after a refused submit the first such field
 *   takes the focus (the page's one error summary, role="alert", announces the errors once).
 * - Wide tables: a .table-wrap that scrolls sideways becomes a focusable region (so keyboard
 *   users can scroll it) and shows a hint "左右滑动查看" above it at narrow widths.
 */
(function () {
  "use strict";
  var zh = (document.documentElement.lang || "zh").indexOf("zh") === 0;
  var n = 0;

  function idOf(el, prefix) {
    if (!el.id) { n += 1; el.id = prefix + "-" + n; }
    return el.id;
  }

  function linkErrors() {
    var first = null;
    var wrappers = document.querySelectorAll(".has-error");
    for (var i = 0; i < wrappers.length; i++) {
      var w = wrappers[i];
      var errors = w.querySelectorAll(":scope > .errorlist");
      if (!errors.length) errors = w.querySelectorAll(".errorlist");
      if (!errors.length) continue;
      var ids = [];
      for (var j = 0; j < errors.length; j++) ids.push(idOf(errors[j], "err"));
      var controls = w.querySelectorAll(
        "input:not([type=hidden]):not([type=submit]), select, textarea"
      );
      for (var k = 0; k < controls.length; k++) {
        var c = controls[k];
        c.setAttribute("aria-invalid", "true");
        var had = (c.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
        for (var m = 0; m < ids.length; m++) if (had.indexOf(ids[m]) < 0) had.push(ids[m]);
        c.setAttribute("aria-describedby", had.join(" "));
        if (!first && !c.disabled) first = c;
      }
    }
    if (first && document.querySelector("[data-focus-first-error]")) {
      first.focus({ preventScroll: false });
    }
  }

  function hintWideTables() {
    var wraps = document.querySelectorAll(".table-wrap");
    for (var i = 0; i < wraps.length; i++) {
      var w = wraps[i];
      if (w.dataset.hinted) continue;
      if (w.scrollWidth <= w.clientWidth + 1) continue;
      w.dataset.hinted = "1";
      var hint = document.createElement("p");
      hint.className = "scroll-hint";
      hint.id = idOf(hint, "hint");
      hint.textContent = zh ? "左右滑动查看" : "Scroll sideways to see the whole table";
      w.parentNode.insertBefore(hint, w);
      hint.style.display = "block";
      if (!w.hasAttribute("tabindex")) w.setAttribute("tabindex", "0");
      if (!w.hasAttribute("role")) w.setAttribute("role", "region");
      if (!w.hasAttribute("aria-label") && !w.hasAttribute("aria-labelledby")) {
        w.setAttribute("aria-describedby", hint.id);
        var cap = w.querySelector("caption");
        w.setAttribute("aria-label", cap ? cap.textContent.trim() : (zh ? "表格" : "Table"));
      }
    }
  }

  function ready() {
    linkErrors();
    hintWideTables();
    window.addEventListener("resize", hintWideTables);
    document.body.addEventListener("htmx:afterSettle", hintWideTables);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
