// The extension form says, as the day is picked, which deadline the request will ask for: a day off moves it to
// the end of the next working day (the page lists the days off of the coming year, from the working calendar).
(function () {
  var input = document.getElementById("ext-deadline");
  var preview = document.getElementById("ext-preview");
  if (!input || !preview) { return; }
  var off = new Set((input.dataset.daysOff || "").split(",").filter(Boolean));
  function iso(d) { return d.toISOString().slice(0, 10); }
  function show() {
    if (!input.value) { preview.textContent = ""; return; }
    var day = new Date(input.value + "T00:00:00Z");
    var next = new Date(day.getTime());
    for (var i = 0; i < 60 && off.has(iso(next)); i++) { next.setUTCDate(next.getUTCDate() + 1); }
    var text = iso(next) === input.value ? preview.dataset.working.replace("{day}", input.value)
      : preview.dataset.dayOff.replace("{day}", input.value).replace("{next}", iso(next));
    preview.textContent = text;
    preview.classList.toggle("text-warning-emphasis", iso(next) !== input.value);
  }
  input.addEventListener("input", show);
  input.addEventListener("change", show);
  show();
})();
