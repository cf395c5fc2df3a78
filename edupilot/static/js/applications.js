/* Live character counts for long texts; the server counts the same way (formspec.count_chars). */
(function () {
  var HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[\ud840-\ud87a][\udc00-\udfff]/g;
  function count(text, mode) {
    if (!text) return 0;
    if (mode === "han") { var m = text.match(HAN); return m ? m.length : 0; }
    return text.replace(/\s/g, "").length;
  }
  function update(area) {
    var box = document.querySelector('.charcount[data-for="' + area.id + '"]');
    if (!box) return;
    var n = count(area.value, area.getAttribute("data-count") || "han");
    box.querySelector(".n").textContent = n;
    var max = parseInt(area.getAttribute("data-max") || "0", 10);
    var min = parseInt(area.getAttribute("data-min") || "0", 10);
    box.classList.toggle("over", max > 0 && n > max);
    box.classList.toggle("under", min > 0 && n < min);
  }
  document.addEventListener("input", function (e) {
    if (e.target && e.target.matches && e.target.matches("textarea[data-count]")) update(e.target);
  });
})();
