/* Export status page: poll the progress endpoint every second, move the bar, show the link
   when done. Every message comes from the page's data attributes, translated by Django. */
(function () {
  "use strict";
  var box = document.getElementById("export-status");
  if (!box) { return; }
  var url = box.getAttribute("data-progress-url");
  var progress = document.getElementById("export-progress");
  var bar = document.getElementById("export-progress-bar");
  var text = document.getElementById("export-progress-text");
  var label = document.getElementById("export-status-label");
  var error = document.getElementById("export-error");
  var hint = document.getElementById("export-hint");
  var download = document.getElementById("export-download");
  var link = document.getElementById("export-download-link");
  var delay = 1000;

  function show(data) {
    label.textContent = data.status_label;
    bar.value = data.percent;
    text.textContent = data.percent + "%" + (data.total_rows ? " (" + data.done_rows + "/" + data.total_rows + ")" : "");
    if (data.status === "done" && data.next) {
      progress.hidden = true;
      hint.hidden = true;
      link.setAttribute("href", data.next);
      download.hidden = false;
      return false;
    }
    if (data.status === "failed") {
      progress.hidden = true;
      hint.hidden = true;
      error.textContent = data.error || box.getAttribute("data-failed");
      error.hidden = false;
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

  var status = box.getAttribute("data-status");
  if (status === "queued" || status === "running") { poller.later(); }
})();
