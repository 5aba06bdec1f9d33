// <form data-confirm="question">: the browser asks before the form is sent (the CSP allows no inline handlers).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
