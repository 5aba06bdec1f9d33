// Screen pop: a call answered at this operator's extension fills the console's form (the caller's number and
// the call) without a reload. EventSource reconnects by itself when the stream ends or the network blips.
(function () {
  var form = document.getElementById("call-form");
  var banner = document.getElementById("screen-pop");
  if (!form || !banner || !window.EventSource) { return; }
  var source = new EventSource(banner.dataset.streamUrl);
  source.addEventListener("call", function (event) {
    var callId = JSON.parse(event.data).call_id;
    if (form.elements.call_id.value === callId) { return; }  // a reconnect repeats the waiting call
    fetch(banner.dataset.callUrl.replace("__call__", encodeURIComponent(callId)), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (call) {
        if (!call) { return; }
        form.reset();
        form.elements.call_id.value = call.call_id;
        form.elements.citizen_phone.value = call.caller;
        // The caller's history and the duplicate hints follow the number, as when it is typed.
        form.elements.citizen_phone.dispatchEvent(new Event("input", {bubbles: true}));
        banner.querySelector("[data-caller]").textContent = call.caller;
        banner.querySelector("[data-answered]").textContent = call.answered_at || "";
        banner.hidden = false;
        form.elements.title.focus();
      });
  });
})();
