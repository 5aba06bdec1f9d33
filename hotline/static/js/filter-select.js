// Filter a <select>'s options as one types into <input data-filter-select="select-id">.
// Keeps optgroups whose options all hide out of the way; Enter picks the first match.
document.querySelectorAll("input[data-filter-select]").forEach(function (input) {
  var select = document.getElementById(input.dataset.filterSelect);
  if (!select) { return; }
  function firstVisible() {
    return Array.prototype.find.call(select.options, function (o) { return o.value && !o.hidden; });
  }
  input.addEventListener("input", function () {
    var q = input.value.trim().toLowerCase();
    Array.prototype.forEach.call(select.options, function (o) {
      if (!o.value) { return; }
      var group = o.parentElement.tagName === "OPTGROUP" ? o.parentElement.label : "";
      o.hidden = q !== "" && (o.text + " " + group).toLowerCase().indexOf(q) === -1;
    });
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (g) {
      g.hidden = Array.prototype.every.call(g.children, function (o) { return o.hidden; });
    });
    var first = firstVisible();
    if (first && q !== "") { select.value = first.value; }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {  // choose, don't submit, while filtering
      event.preventDefault();
      var first = firstVisible();
      if (first) { select.value = first.value; }
      select.focus();
    }
  });
});
