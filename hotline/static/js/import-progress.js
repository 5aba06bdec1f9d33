// /admin/import: while a large file uploads, is checked or applied (one request, seconds for thousands of rows),
// show a moving bar and what is happening, and keep the button from being pressed twice.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.dataset || !form.dataset.progress || event.defaultPrevented) {
    return;
  }
  var card = form.closest(".card-body") || document;
  var bar = document.querySelector("[data-progress-bar]");
  var text = document.querySelector("[data-progress-text]");
  if (bar && text) {
    if (!card.contains(bar)) {
      form.after(bar, text);
    }
    bar.classList.remove("d-none");
    text.classList.remove("d-none");
    text.textContent = form.dataset.progress;
  }
  form.querySelectorAll("button[type=submit]").forEach(function (button) {
    // Disabled after the browser has taken the form's data, so the request still goes out.
    window.setTimeout(function () { button.disabled = true; }, 0);
  });
});

// Back from the next page (the browser's page cache): the form is usable again.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("[data-progress-bar], [data-progress-text]").forEach(function (el) {
    el.classList.add("d-none");
  });
  document.querySelectorAll("form[data-progress] button[type=submit]").forEach(function (button) {
    button.disabled = false;
  });
});
