/* Polling a job's progress endpoint, shared by the import and export status pages:
   GET the JSON every `delay` ms while onData returns true; on 403/404 call onGone(status)
   and stop; on other failures back off (up to 5 s) and give up after 20 in a row. */
window.pollProgress = function (url, options) {
  "use strict";
  var delay = options.delay || 1000;
  var failures = 0;

  function poll() {
    var request = new XMLHttpRequest();
    request.open("GET", url);
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (request.status === 200) {
        failures = 0;
        if (options.onData(JSON.parse(request.responseText))) { window.setTimeout(poll, delay); }
      } else if (request.status === 403 || request.status === 404) {
        options.onGone(request.status);
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
      options.onGiveUp();
      return;
    }
    window.setTimeout(poll, Math.min(delay * (failures + 1), 5000));
  }

  return { start: poll, later: function () { window.setTimeout(poll, delay); } };
};
