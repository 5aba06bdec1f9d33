// A table wider than its box scrolls inside it (.table-responsive): such a box joins the Tab order, so a
// keyboard user can focus it and scroll it with the arrow keys (WCAG 2.1.1). Boxes that fit stay out of it.
(function () {
  function mark() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
      }
    });
  }
  mark();
  var timer = null;
  window.addEventListener("resize", function () {
    clearTimeout(timer);
    timer = setTimeout(mark, 150);
  });
})();
