// The portal's interview page (templates/interviews/public_show.html): while a session is coming or live, poll
// its live.json every few seconds and redraw the questions and answers, so answers appear without a reload.
// Texts go in with textContent only (they come from citizens and staff). Without this script, a reload shows
// the same. When the session's status changes (it starts or ends), the page reloads once to show the new state.
(function () {
  var root = document.getElementById("interview");
  if (!root || !root.dataset.liveUrl || !window.fetch) {
    return;
  }
  var list = document.getElementById("qa-list");
  var seconds = Math.max(2, parseInt(root.dataset.pollSeconds, 10) || 5);
  var shown = "";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function item(q) {
    var li = el("li", "card mb-2");
    li.dataset.question = q.id;
    var body = el("div", "card-body py-2");
    var question = el("p", "mb-1");
    question.appendChild(el("span", "fw-semibold", list.dataset.questionLabel + ":"));
    question.appendChild(document.createTextNode(" "));
    question.appendChild(el("span", "prewrap", q.text));
    body.appendChild(question);
    if (q.answer !== null) {
      var answer = el("p", "mb-0 border-start border-3 border-success ps-2");
      answer.dataset.answer = "";
      answer.appendChild(el("span", "fw-semibold", list.dataset.answerLabel));
      answer.appendChild(document.createTextNode(" "));
      answer.appendChild(el("span", "small text-body-secondary", q.answered_at || ""));
      answer.appendChild(document.createTextNode(": "));
      answer.appendChild(el("span", "prewrap", q.answer));
      body.appendChild(answer);
    } else {
      var waiting = el("p", "mb-0 small text-body-secondary", list.dataset.waiting);
      waiting.dataset.waiting = "";
      body.appendChild(waiting);
    }
    li.appendChild(body);
    return li;
  }

  function draw(state) {
    if (state.status !== root.dataset.status) {
      window.location.reload();
      return;
    }
    var key = JSON.stringify(state.questions);
    if (key === shown) {
      return;
    }
    shown = key;
    var fresh = document.createDocumentFragment();
    state.questions.forEach(function (q) {
      fresh.appendChild(item(q));
    });
    if (!state.questions.length) {
      var empty = el("li", "text-body-secondary", list.dataset.empty);
      empty.dataset.empty = "";
      fresh.appendChild(empty);
    }
    list.replaceChildren(fresh);
  }

  function poll() {
    fetch(root.dataset.liveUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (state) {
        if (state) {
          draw(state);
        }
      })
      .catch(function () {})
      .then(function () {
        window.setTimeout(poll, seconds * 1000);
      });
  }

  window.setTimeout(poll, seconds * 1000);
})();
