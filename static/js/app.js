/* Page behaviour shared by every page. Served from the app's own static files; no inline
   script, so a strict Content-Security-Policy can forbid them. */
(function () {
  "use strict";
  var lang = document.documentElement.lang || "zh-hans";
  var zh = lang.indexOf("zh") === 0;
  var text = {
    403: zh ? "您无权执行此操作。" : "You are not allowed to do this.",
    413: zh ? "上传的文件过大。" : "The upload is too large.",
    429: zh ? "操作过于频繁，请稍后再试。" : "Too many requests. Wait a moment and try again.",
    other: zh ? "保存失败，请刷新页面后重试。" : "Could not save. Reload the page and try again.",
    network: zh ? "网络连接中断，请检查网络后重试。" : "The connection failed. Check the network and try again."
  };

  function showError(message) {
    var box = document.getElementById("request-error");
    if (!box) { return; }
    box.textContent = message;
    box.hidden = false;
  }

  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("request-error");
    if (box) { box.hidden = true; }
  });
  /* An error page says what went wrong in its data-error-message paragraph (a quota's own
     limit, say): show that when there is one, else a word for the status. */
  function pageMessage(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("text/html") !== 0) { return ""; }
    var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var node = page.querySelector("[data-error-message]");
    return node ? node.textContent.trim() : "";
  }
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var status = xhr ? xhr.status : 0;
    showError((xhr && pageMessage(xhr)) || text[status] || text.other);
  });
  document.addEventListener("htmx:sendError", function () { showError(text.network); });

  /* A select marked js-autosubmit (the language switch) submits its form when changed:
     the CSP forbids inline handlers, so the page's behaviour is wired here. */
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.classList && select.classList.contains("js-autosubmit") && select.form) { select.form.submit(); }
  });

  /* A task not started is at 0%: a percent above it means the work has started. */
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.name !== "percent" || !input.form) { return; }
    var status = input.form.querySelector("select[name=status]");
    if (status && !status.disabled && status.value === "not_started" && Number(input.value) > 0) {
      status.value = "in_progress";
    }
  });

  /* Finishing a task means 100%: fill it in when 已完成 is chosen. */
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.name !== "status" || !select.form) { return; }
    var percent = select.form.querySelector("input[name=percent]");
    if (percent && select.value === "done") { percent.value = 100; }
  });
})();

/* The header's menu on a phone: the button (hidden without JS, when the menu simply shows)
   folds the navigation away and opens it again; Escape closes it and gives the focus back. */
(function () {
  "use strict";
  var toggle = document.querySelector(".menu-toggle");
  var menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (!toggle || !menu) { return; }
  var header = toggle.closest(".topbar");
  function setOpen(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("open", open);
  }
  toggle.hidden = false;
  if (header) { header.classList.add("menu-ready"); }
  setOpen(false);
  toggle.addEventListener("click", function () { setOpen(toggle.getAttribute("aria-expanded") !== "true"); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      toggle.focus();
    }
  });
})();
