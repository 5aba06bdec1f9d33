// Screen pop: a call answered at this operator's extension fills the console's form (the caller's number and
// the call) without a reload; a form holding unsaved typing is never replaced without asking (save it first,
// then the call pops; or discard it). A call that ended without a ticket reloads the wrap-up lists below.
// EventSource reconnects by itself when the stream ends or the network blips.
(function () {
  var form = document.getElementById("call-form");
  var banner = document.getElementById("screen-pop");
  var ask = document.getElementById("screen-pop-ask");
  var board = document.getElementById("wrap-up-board");
  if (!form || !banner || !window.EventSource) { return; }
  var PENDING = "hotline.screenPop.pending";  // the call to pop once the form the operator saved is stored
  var TYPED = ["citizen_name", "title", "body", "address", "note"];
  var waiting = null;  // the call the operator is asked about

  function typedSomething() {
    var phone = form.elements.citizen_phone.value.trim();
    if (phone && phone !== (form.dataset.poppedCaller || "")) { return true; }
    return TYPED.some(function (name) {
      var field = form.elements[name];
      return field && field.value.trim() !== "";
    });
  }

  function fill(call) {
    form.reset();
    form.elements.call_id.value = call.call_id;
    form.elements.citizen_phone.value = call.caller;
    form.dataset.poppedCaller = call.caller;
    // The caller's history and the duplicate hints follow the number, as when it is typed.
    form.elements.citizen_phone.dispatchEvent(new Event("input", {bubbles: true}));
    banner.querySelector("[data-caller]").textContent = call.caller;
    banner.querySelector("[data-answered]").textContent = call.answered_at || "";
    banner.hidden = false;
    if (ask) { ask.hidden = true; }
    waiting = null;
    form.elements.title.focus();
  }

  function pop(callId) {
    if (form.elements.call_id.value === callId) { return; }  // a reconnect repeats the waiting call
    fetch(banner.dataset.callUrl.replace("__call__", encodeURIComponent(callId)), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (call) {
        if (!call) { return; }
        if (!ask || !typedSomething()) { fill(call); return; }
        waiting = call;
        ask.querySelector("[data-caller]").textContent = call.caller;
        ask.hidden = false;
        ask.querySelector("[data-choice=save]").focus();
      });
  }

  if (ask) {
    ask.addEventListener("click", function (event) {
      var choice = event.target.closest("[data-choice]");
      if (!choice || !waiting) { return; }
      if (choice.dataset.choice === "discard") { fill(waiting); return; }
      // Saving reloads the console: the call pops there once the form is stored (or is asked about again
      // when the form comes back with an error, still holding the typing).
      sessionStorage.setItem(PENDING, waiting.call_id);
      ask.hidden = true;
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    });
  }

  function reloadWrapUp() {
    if (!board) { return; }
    fetch(board.dataset.url, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { if (html) { board.innerHTML = html; } });
  }

  var pending = sessionStorage.getItem(PENDING);
  if (pending) { sessionStorage.removeItem(PENDING); pop(pending); }

  var source = new EventSource(banner.dataset.streamUrl);
  var opened = false;
  source.addEventListener("open", function () {
    if (opened) { reloadWrapUp(); }  // a call may have ended while the stream was reconnecting
    opened = true;
  });
  source.addEventListener("call", function (event) { pop(JSON.parse(event.data).call_id); });
  source.addEventListener("wrap-up", reloadWrapUp);
})();
