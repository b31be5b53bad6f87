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
  var failures = 0;

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

  function poll() {
    var request = new XMLHttpRequest();
    request.open("GET", url);
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (request.status === 200) {
        failures = 0;
        if (show(JSON.parse(request.responseText))) { window.setTimeout(poll, delay); }
      } else if (request.status === 403 || request.status === 404) {
        error.textContent = zh
          ? "无法读取导出状态（" + request.status + "），请刷新页面或重新登录。"
          : "Could not read the export status (" + request.status + "). Reload the page or sign in again.";
        error.hidden = false;
      } else {
        retryLater();
      }
    };
    request.onerror = retryLater;
    request.send();
  }

  function retryLater() {
    failures += 1;
    if (failures > 20) {
      error.textContent = "暂时无法连接服务器，请稍后刷新页面。";
      error.hidden = false;
      return;
    }
    window.setTimeout(poll, Math.min(delay * (failures + 1), 5000));
  }

  var status = box.getAttribute("data-status");
  if (status === "queued" || status === "running") { window.setTimeout(poll, delay); }
})();
