/* The agency picker (accounts/pickers.py): a search box before each
   select[data-agency-picker] that hides the options whose names and aliases do not
   contain what is typed (simplified or traditional as written; the server matches
   scripts on import). No inline script; the select works without this file. */
(function () {
  "use strict";
  var zh = (document.documentElement.lang || "zh").indexOf("zh") === 0;

  function enhance(select) {
    if (select.dataset.pickerReady) { return; }
    select.dataset.pickerReady = "1";
    var box = document.createElement("input");
    box.type = "search";
    box.className = "agency-search";
    box.placeholder = zh ? "搜索单位名称或简称" : "Search agencies by name";
    box.setAttribute("aria-label", box.placeholder);
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () {
      var needle = box.value.trim().toLowerCase();
      var first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) { option.hidden = false; return; }
        var words = (option.dataset.search || option.textContent).toLowerCase();
        var shown = !needle || words.indexOf(needle) !== -1;
        option.hidden = !shown;
        if (shown && first === null) { first = option; }
      });
      if (!select.multiple && needle && first !== null && select.selectedOptions.length &&
          select.selectedOptions[0].hidden) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  function scan(root) {
    Array.prototype.forEach.call(root.querySelectorAll("select[data-agency-picker]"), enhance);
  }
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (event) { scan(event.target); });
}());
