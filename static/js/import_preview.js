/* The import preview (templates/imports/preview.html): every change of the preview form
   (an owner mapping, a decision, a plan detail, a section title) is posted at once to the
   import's autosave endpoint, which saves the valid parts and answers a short status shown
   under the confirm buttons. The task rows' checkboxes feed "set the owners of the selected
   tasks", with a select-all per section. Without this file the form's save button still
   saves everything. No inline script (strict CSP). */
(function () {
  "use strict";
  var DELAY = 600; // ms after the last keystroke in a text field

  function setUp() {
    var form = document.getElementById("preview-form");
    var status = document.getElementById("autosave-status");
    if (form && form.dataset.autosave) {
      var timer = null;
      var pending = false;
      var running = false;

      var show = function (text, failed) {
        if (!status) { return; }
        status.textContent = text;
        status.classList.toggle("error", !!failed);
      };

      var save = function () {
        if (running) { pending = true; return; }
        running = true;
        pending = false;
        show("正在保存…", false);
        fetch(form.dataset.autosave, {
          method: "POST",
          body: new FormData(form),
          credentials: "same-origin",
          headers: { "X-Requested-With": "fetch" }
        }).then(function (response) {
          return response.json().then(function (body) {
            show(body.message || (response.ok ? "已保存" : "保存失败"), !response.ok);
          });
        }).catch(function () {
          show("自动保存失败（网络中断？）：请点“保存修改”。", true);
        }).then(function () {
          running = false;
          if (pending) { save(); }
        });
      };

      var belongs = function (target) {
        return target && target.form === form && target.name && target.name !== "action";
      };
      document.addEventListener("change", function (event) {
        if (!belongs(event.target)) { return; }
        window.clearTimeout(timer);
        save();
      });
      document.addEventListener("input", function (event) {
        var target = event.target;
        if (!belongs(target) || target.tagName === "SELECT" || target.type === "checkbox" || target.type === "radio") {
          return;
        }
        window.clearTimeout(timer);
        timer = window.setTimeout(save, DELAY);
      });
    }

    var count = document.getElementById("bulk-count");
    var boxes = function () { return document.querySelectorAll("input[name='bulk-tasks']"); };
    var recount = function () {
      if (!count) { return; }
      var n = Array.prototype.filter.call(boxes(), function (box) { return box.checked; }).length;
      count.textContent = n ? "已选 " + n + " 项任务" : "";
    };
    document.addEventListener("change", function (event) {
      var target = event.target;
      if (target.classList && target.classList.contains("pick-all")) {
        var table = target.closest("table");
        Array.prototype.forEach.call(table.querySelectorAll("input[name='bulk-tasks']"), function (box) {
          box.checked = target.checked;
        });
      }
      if (target.name === "bulk-tasks" || (target.classList && target.classList.contains("pick-all"))) {
        recount();
      }
    });
    recount();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
}());
