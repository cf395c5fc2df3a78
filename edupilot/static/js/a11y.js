/* Accessibility helpers for every page (GB/T 37668, WCAG 2.1 AA); no inline script needed.
 *
 * - Form errors: each field whose wrapper has class "has-error" gets aria-invalid="true" and
 *   aria-describedby pointing at its error list; after a refused submit the first such field
 *   takes the focus (the page's one error summary, role="alert", announces the errors once).
 * - The sticky save bar of a form never covers the focused field.
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
      first.focus();
      // A URL fragment (#main, after the skip link) moves the focus again once the page has
      // loaded: take it back unless the user has moved on.
      window.addEventListener("load", function () {
        setTimeout(function () {
          var a = document.activeElement;
          if (!a || a === document.body || a.id === "main" || a === first) first.focus();
        }, 0);
      });
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

  // The sticky save/submit bar must not cover the focused field: scroll-padding (CSS) moves
  // hidden fields into view; a field partly under the bar is scrolled up here.
  function keepFocusClear(e) {
    var bar = document.querySelector(".sticky-actions");
    var el = e.target;
    if (!bar || !el || !el.getBoundingClientRect || bar.contains(el)) return;
    window.requestAnimationFrame(function () {
      var r = el.getBoundingClientRect(), b = bar.getBoundingClientRect();
      if (r.bottom <= b.top) return;
      var by = Math.min(r.bottom - b.top + 8, r.top - 8);
      if (by > 0) window.scrollBy(0, by);
    });
  }

  function ready() {
    document.addEventListener("focusin", keepFocusClear);
    linkErrors();
    hintWideTables();
    window.addEventListener("resize", hintWideTables);
    document.body.addEventListener("htmx:afterSettle", hintWideTables);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
