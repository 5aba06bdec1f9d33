// <select data-fill-target="textarea-id">: choosing an option puts its value into the textarea
// (a canned answer to start from); the handler edits it before submitting.
document.querySelectorAll("select[data-fill-target]").forEach(function (select) {
  select.addEventListener("change", function () {
    var target = document.getElementById(select.dataset.fillTarget);
    if (target && select.value) {
      if (!target.value.trim() || window.confirm(select.dataset.confirm || "Replace the text?")) {
        target.value = select.value;
      }
      target.focus();
    }
  });
});
