/* The task page and its report page: after a save, a conflict or a refusal, the message is
   where the user's eyes are. The first [data-focus-message] element (the saved message, the
   conflict, the question about 100 %, the form's errors), else the first field in error,
   takes the focus, which scrolls it into view and makes a screen reader read it, on load and
   after HTMX swaps the page's main panel. */
(function () {
  "use strict";

  function focusMessage(root) {
    var scope = root || document;
    // A message first; failing one, a form sent back with errors opens on its first field
    // in error (Django marks it aria-invalid).
    var target = scope.querySelector("[data-focus-message]") || scope.querySelector("form [aria-invalid=true]");
    if (!target) { return; }
    if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    target.focus({ preventScroll: true });
    var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    target.scrollIntoView({ block: "center", behavior: reduce ? "auto" : "smooth" });
  }

  // After the load: a browser that scrolls to the address's #fragment (a redirect to
  // …#report) moves the focus there, which would take it off the message.
  if (document.readyState === "complete") {
    focusMessage(document);
  } else {
    window.addEventListener("load", function () { window.setTimeout(function () { focusMessage(document); }, 0); });
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.detail && event.detail.elt;
    if (swapped && swapped.id === "task-main") { focusMessage(swapped); return; }
    // outerHTML swaps replace the element the event names: look in the new panel.
    var panel = document.getElementById("task-main");
    if (panel) { focusMessage(panel); }
  });
})();
