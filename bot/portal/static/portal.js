// Delivery counts of team messages update by themselves: every few seconds each row with
// data-poll asks its status and writes the numbers in its cells. Nothing else needs script.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-poll]"));
  if (!rows.length) { return; }
  var status = document.getElementById("poll-status");
  function refresh() {
    rows.forEach(function (row) {
      fetch(row.getAttribute("data-poll"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          var changed = false;
          row.querySelectorAll("[data-count]").forEach(function (cell) {
            var value = String(data[cell.getAttribute("data-count")]);
            if (cell.textContent !== value) { cell.textContent = value; changed = true; }
          });
          if (changed && status) { status.textContent = "Aantallen bijgewerkt."; }
        })
        .catch(function () { /* try again at the next tick */ });
    });
  }
  window.setInterval(refresh, 3000);
})();
