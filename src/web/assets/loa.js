// Đang phát: the two things htmx does not do. The page works without this script.
// - The item on air's progress bar and clock tick once a second. They run from the time
//   the server says had elapsed when it rendered the part (data-elapsed), counted from when
//   this page first saw it, so a wrong clock on this computer does not matter; a part htmx
//   swaps in is a new element and starts again from its own data-elapsed.
// - A button with data-confirm (urgent) asks first; without the script the form is sent.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var b = ev.target && ev.target.closest ? ev.target.closest("[data-confirm]") : null;
    if (b && !window.confirm(b.getAttribute("data-confirm"))) { ev.preventDefault(); }
  });
  function clock(ms) {
    var s = Math.floor(ms / 1000), m = Math.floor(s / 60), h = Math.floor(m / 60);
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return h > 0 ? h + ":" + two(m % 60) + ":" + two(s % 60) : m + ":" + two(s % 60);
  }
  function tick() {
    var now = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll("progress[data-length]"), function (bar) {
      var length = Number(bar.getAttribute("data-length"));
      if (!length) { return; }
      if (!bar.hasAttribute("data-seen")) {
        bar.setAttribute("data-seen", String(now - Number(bar.getAttribute("data-elapsed") || 0)));
      }
      var e = Math.min(length, Math.max(0, now - Number(bar.getAttribute("data-seen"))));
      bar.value = e;
      var c = bar.parentNode.querySelector(".clock");
      if (c) { c.textContent = clock(e) + " / " + clock(length); }
    });
  }
  tick();
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);
})();
