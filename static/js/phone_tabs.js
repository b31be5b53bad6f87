/* On a phone, the parts of a long page become tabs: each child of a [data-phone-tabs]
   element that has a data-tab-label is a panel, and a tab list (WAI-ARIA tabs: arrow keys,
   Home, End) is put above them. On a wider screen, and without JS, every part shows. */
(function () {
  "use strict";

  var query = window.matchMedia ? window.matchMedia("(max-width: 720px)") : null;
  var containers = document.querySelectorAll("[data-phone-tabs]");
  if (!query || !containers.length) { return; }

  function panelsOf(container) {
    return Array.prototype.filter.call(container.children, function (el) {
      return el.hasAttribute("data-tab-label");
    });
  }

  function build(container, n) {
    var panels = panelsOf(container);
    if (panels.length < 2) { return null; }
    var list = document.createElement("div");
    list.className = "phone-tablist";
    list.setAttribute("role", "tablist");
    list.setAttribute("aria-label", container.getAttribute("data-tabs-label") || "");
    var tabs = panels.map(function (panel, i) {
      if (!panel.id) { panel.id = "phone-tab-" + n + "-" + i; }
      var tab = document.createElement("button");
      tab.type = "button";
      tab.id = panel.id + "-tab";
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", panel.id);
      tab.textContent = panel.getAttribute("data-tab-label");
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      panel.setAttribute("tabindex", "0");
      list.appendChild(tab);
      return tab;
    });
    container.insertBefore(list, container.firstChild);

    function select(index, focus) {
      tabs.forEach(function (tab, i) {
        var on = i === index;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
        panels[i].hidden = !on;
      });
      if (focus) { tabs[index].focus(); }
    }
    list.addEventListener("click", function (event) {
      var index = tabs.indexOf(event.target.closest("[role=tab]"));
      if (index >= 0) { select(index, false); }
    });
    list.addEventListener("keydown", function (event) {
      var index = tabs.indexOf(document.activeElement);
      if (index < 0) { return; }
      var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) { return; }
      event.preventDefault();
      select((next + tabs.length) % tabs.length, true);
    });
    // The part the address names (…#by-agency) opens first.
    var start = 0;
    panels.forEach(function (panel, i) { if (window.location.hash === "#" + panel.id) { start = i; } });
    select(start, false);

    return function undo() {
      list.parentNode.removeChild(list);
      panels.forEach(function (panel) {
        panel.hidden = false;
        ["role", "aria-labelledby", "tabindex"].forEach(function (name) { panel.removeAttribute(name); });
      });
    };
  }

  var undos = [];
  function apply() {
    undos.forEach(function (undo) { if (undo) { undo(); } });
    undos = [];
    if (query.matches) {
      Array.prototype.forEach.call(containers, function (container, n) { undos.push(build(container, n)); });
    }
  }
  apply();
  if (query.addEventListener) { query.addEventListener("change", apply); } else if (query.addListener) { query.addListener(apply); }
})();
