/* The search box of a long select (tasks.filters.SearchSelect): before each
   select[data-options-url] a search input that asks the server for the matching choices the
   user may see (JSON {"results": [{"id", "text"}], "more"}) and puts them in the select.
   No inline script, no library; without this file the select keeps its chosen option and
   ?plan=<id> still filters. */
(function () {
  "use strict";

  function fill(select, results, more) {
    var chosen = select.value;
    var keep = [];
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value || option.value === chosen) { keep.push(option); }
    });
    while (select.options.length) { select.remove(0); }
    keep.forEach(function (option) { select.add(option); });
    results.forEach(function (row) {
      if (String(row.id) === chosen) { return; }
      var option = document.createElement("option");
      option.value = row.id;
      option.textContent = row.text;
      select.add(option);
    });
    if (more) {
      var hint = document.createElement("option");
      hint.disabled = true;
      hint.textContent = select.dataset.moreLabel || "…";
      select.add(hint);
    }
  }

  function enhance(select) {
    if (select.dataset.searchReady) { return; }
    select.dataset.searchReady = "1";
    var box = document.createElement("input");
    box.type = "search";
    // Styled as the agency picker's search box (static/css/app.css).
    box.className = "agency-search select-search";
    box.placeholder = select.dataset.searchLabel || "";
    box.setAttribute("aria-label", box.placeholder);
    box.setAttribute("autocomplete", "off");
    select.parentNode.insertBefore(box, select);
    var timer = null;
    var asked = 0;

    function ask() {
      var ticket = ++asked;
      var url = select.dataset.optionsUrl + "?q=" + encodeURIComponent(box.value.trim());
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          // Only the answer to the latest question fills the list.
          if (data && ticket === asked) { fill(select, data.results || [], data.more); }
        })
        .catch(function () { /* the select keeps what it had */ });
    }

    box.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 250);
    });
    // The first choices arrive when the user comes to the filter, not with the page.
    box.addEventListener("focus", function () { if (!box.dataset.loaded) { box.dataset.loaded = "1"; ask(); } });
    select.addEventListener("focus", function () { if (!box.dataset.loaded) { box.dataset.loaded = "1"; ask(); } });
  }

  function scan(root) {
    Array.prototype.forEach.call(root.querySelectorAll("select[data-options-url]"), enhance);
  }
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (event) { scan(event.target); });
}());
