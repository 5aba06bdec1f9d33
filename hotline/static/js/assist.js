// Operator console assistant: similar open tickets and policy articles for the appeal being typed,
// and "insert into the answer" buttons for articles (console note field or a reply textarea).
(function () {
  function insert(target, text) {
    if (!target) { return; }
    var start = target.selectionStart || target.value.length;
    var before = target.value.slice(0, start), after = target.value.slice(start);
    var glue = before && !/\n$/.test(before) ? "\n" : "";
    target.value = before + glue + text + after;
    target.dispatchEvent(new Event("input", {bubbles: true}));
    target.focus();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-kb-insert]");
    if (!button) { return; }
    var name = button.dataset.kbInsert;
    var target = document.getElementById(name) || document.querySelector("textarea[name='" + name + "']");
    insert(target, button.dataset.kbText);
  });

  var form = document.getElementById("call-form");
  var panel = document.getElementById("assist-panel");
  if (!form || !panel) { return; }
  var timer = null, kb = "";
  function refresh() {
    var el = form.elements;
    var params = new URLSearchParams({
      phone: el.citizen_phone.value.trim(), title: el.title.value.trim(), body: el.body.value.trim(),
      category_id: el.category_id.value || "", district_id: el.district_id.value || "",
      address: el.address.value.trim(), kb: kb
    });
    // Text, or a category with an address or a phone: enough for a duplicate or an article.
    var enough = params.get("title") || params.get("body") || kb ||
      (params.get("category_id") && (params.get("address") || params.get("phone").length >= 7));
    if (!enough) { return; }
    fetch(panel.dataset.assistUrl + "?" + params.toString(), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        if (!html) { return; }
        var focused = document.activeElement && document.activeElement.hasAttribute("data-kb-search");
        panel.innerHTML = html;
        if (focused) {
          var box = panel.querySelector("[data-kb-search]");
          box.focus(); box.setSelectionRange(box.value.length, box.value.length);
        }
      });
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 400); }
  ["title", "body", "address", "citizen_phone"].forEach(function (name) {
    form.elements[name].addEventListener("input", later);
  });
  ["category_id", "district_id"].forEach(function (name) {
    form.elements[name].addEventListener("change", later);
  });
  panel.addEventListener("input", function (event) {
    if (event.target.hasAttribute("data-kb-search")) { kb = event.target.value.trim(); later(); }
  });
  panel.addEventListener("keydown", function (event) {  // Enter in the KB box must not submit the call
    if (event.target.hasAttribute("data-kb-search") && event.key === "Enter") { event.preventDefault(); }
  });
})();
