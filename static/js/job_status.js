/* A job's status page (a plan import's parse, an export): poll the progress endpoint, move
   the bar, and when the job ends either open the next page (data-on-done="go") or offer the
   file (data-on-done="download"). Parts are found by data-part; every message comes from
   the page's data attributes, translated by Django. */
(function () {
  "use strict";
  var box = document.querySelector("[data-job-status]");
  if (!box) { return; }
  function part(name) { return box.querySelector('[data-part="' + name + '"]'); }
  var progress = part("progress");
  var bar = part("bar");
  var text = part("text");
  var label = part("label");
  var error = part("error");
  var hint = part("hint");
  var retry = part("retry");
  var download = part("download");
  var link = part("link");
  var goOn = box.getAttribute("data-on-done") === "go";

  function say(message) {
    error.textContent = message;
    error.hidden = false;
  }

  function show(data) {
    label.textContent = data.status_label;
    bar.value = data.percent;
    text.textContent = data.percent + "%" + (data.total_rows ? " (" + data.done_rows + "/" + data.total_rows + ")" : "");
    if (data.next && goOn) {
      window.location.assign(data.next);
      return false;
    }
    if (data.next && data.status === "done") {
      progress.hidden = true;
      hint.hidden = true;
      link.setAttribute("href", data.next);
      download.hidden = false;
      return false;
    }
    if (data.status === "failed") {
      progress.hidden = true;
      hint.hidden = true;
      say(data.error || box.getAttribute("data-failed"));
      if (retry) { retry.hidden = false; }
      return false;
    }
    return true;
  }

  var poller = window.pollProgress(box.getAttribute("data-progress-url"), {
    delay: Number(box.getAttribute("data-delay")) || 1000,
    onData: show,
    onGone: function (status) { say(box.getAttribute("data-gone").replace("%(status)s", status)); },
    onGiveUp: function () { say(box.getAttribute("data-unreachable")); }
  });

  var waiting = (box.getAttribute("data-poll-while") || "").split(" ");
  if (waiting.indexOf(box.getAttribute("data-status")) >= 0) { poller.start(); }
})();
