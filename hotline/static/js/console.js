// Operator console: show the caller's history and duplicate hints while the call goes on.
(function () {
  var form = document.getElementById("call-form");
  var panel = document.getElementById("caller-panel");
  if (!form || !panel) { return; }
  var timer = null;
  function refresh() {
    var phone = form.elements.citizen_phone.value.trim();
    if (phone.length < 7) { return; }
    var params = new URLSearchParams({
      phone: phone,
      category_id: form.elements.category_id.value || "",
      address: form.elements.address.value.trim()
    });
    fetch(form.dataset.callerUrl + "?" + params.toString(), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { if (html) { panel.innerHTML = html; } });
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 300); }
  form.elements.citizen_phone.addEventListener("input", later);
  form.elements.category_id.addEventListener("change", later);
  form.elements.address.addEventListener("change", later);
  if (form.elements.citizen_phone.value) { refresh(); }
})();
