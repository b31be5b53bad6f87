/* Plan import status page: poll the progress endpoint, move the bar, go on when parsed.
   Every message comes from the page's data attributes, translated by Django. */
(function () {
  "use strict";
  var box = document.getElementById("import-status");
  if (!box) { return; }
  var url = box.getAttribute("data-progress-url");
  var bar = document.getElementById("import-progress-bar");
  var text = document.getElementById("import-progress-text");
  var label = document.getElementById("import-status-label");
  var error = document.getElementById("import-error");
  var hint = document.getElementById("import-hint");
  var retry = document.getElementById("import-retry");
  var delay = 700;

  function show(data) {
    label.textContent = data.status_label;
    bar.value = data.percent;
    text.textContent = data.percent + "%";
    if (data.next) {
      window.location.assign(data.next);
      return false;
    }
    if (data.status === "failed") {
      bar.parentNode.hidden = true;
      hint.hidden = true;
      error.textContent = data.error || box.getAttribute("data-failed");
      error.hidden = false;
      retry.hidden = false;
      return false;
    }
    return true;
  }

  var poller = window.pollProgress(url, {
    delay: delay,
    onData: show,
    onGone: function (status) {
      error.textContent = box.getAttribute("data-gone").replace("%(status)s", status);
      error.hidden = false;
    },
    onGiveUp: function () {
      error.textContent = box.getAttribute("data-unreachable");
      error.hidden = false;
    }
  });

  if (box.getAttribute("data-status") !== "failed") { poller.start(); }
})();
