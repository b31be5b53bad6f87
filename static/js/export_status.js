/* Export status page: poll the progress endpoint every second, move the bar, show the link when done. */
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
  var zh = (document.documentElement.lang || "zh-hans").indexOf("zh") === 0;
  var delay = 1000;

  function show(data) {
    label.textContent = data.status_label;
    bar.value = data.percent;
    text.textContent = data.percent + "%" + (data.total_rows ? " (" + data.done_rows + "/" + data.total_rows + ")" : "");
    if (data.status === "done" && data.download_url) {
      progress.hidden = true;
      hint.hidden = true;
      link.setAttribute("href", data.download_url);
      download.hidden = false;
      return false;
    }
    if (data.status === "failed") {
      progress.hidden = true;
      hint.hidden = true;
      error.textContent = data.error || (zh ? "导出失败。" : "The export failed.");
      error.hidden = false;
      return false;
    }
    return true;
  }

  var poller = window.pollProgress(url, {
    delay: delay,
    onData: show,
    onGone: function (status) {
      error.textContent = zh
        ? "无法读取导出状态（" + status + "），请刷新页面或重新登录。"
        : "Could not read the export status (" + status + "). Reload the page or sign in again.";
      error.hidden = false;
    },
    onGiveUp: function () {
      error.textContent = zh ? "暂时无法连接服务器，请稍后刷新页面。" : "The server cannot be reached; reload the page later.";
      error.hidden = false;
    }
  });

  var status = box.getAttribute("data-status");
  if (status === "queued" || status === "running") { poller.later(); }
})();
