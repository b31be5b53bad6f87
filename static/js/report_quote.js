/* The 引用 buttons beside a report's draft: append a co-owner's input to 本期进展. Wired
   here, not inline, because the Content-Security-Policy forbids inline script. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".js-quote") : null;
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-quote-source"));
    var target = document.getElementById(button.getAttribute("data-quote-target"));
    if (!source || !target) { return; }
    var text = (source.content ? source.content.textContent : source.textContent).trim();
    var current = target.value.replace(/\s+$/, "");
    target.value = current ? current + "\n" + text : text;
    target.focus();
  });
})();
