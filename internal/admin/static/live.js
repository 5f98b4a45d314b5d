// Refreshes the dashboard's figures and chart (the /live fragment) every
// sampling interval. The page works without it.
(function () {
  var box = document.getElementById("live");
  if (!box || !window.fetch) { return; }
  var every = Math.max(parseInt(box.dataset.every, 10) || 10000, 1000);
  setInterval(function () {
    fetch("/live", { credentials: "same-origin" }).then(function (r) {
      if (r.redirected) { window.location.reload(); throw new Error("logged out"); }
      if (r.ok) { return r.text(); }
      throw new Error(r.status);
    }).then(function (html) { box.innerHTML = html; }).catch(function () {});
  }, every);
})();
