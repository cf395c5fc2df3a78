/* Page behaviour that would otherwise be inline handlers (the Content-Security-Policy allows
   no inline script): data-autosubmit submits its form on change, data-print prints the page. */
(function () {
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el && el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
  });
  document.addEventListener("click", function (e) {
    var el = e.target && e.target.closest ? e.target.closest("[data-print]") : null;
    if (el) { e.preventDefault(); window.print(); }
  });
})();
