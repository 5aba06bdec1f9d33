// <form data-confirm="question">: the browser asks before the form is sent (the CSP allows no inline handlers).
// A {name} in the question is replaced by the value of the form's field "name" (the merge form names the
// ticket typed in), so the question says exactly what is about to happen.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.dataset || !form.dataset.confirm) {
    return;
  }
  var question = form.dataset.confirm.replace(/\{(\w+)\}/g, function (whole, name) {
    var field = form.elements.namedItem(name);
    return field && typeof field.value === "string" ? field.value.trim() : whole;
  });
  if (!window.confirm(question)) {
    event.preventDefault();
  }
});
