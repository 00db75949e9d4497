// The hall display follows the log: each time the server says the log moved, fetch the
// board as of that position and put it in place. EventSource reconnects by itself when
// the server restarts; the board is fetched again on every (re)connection.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var board = document.getElementById("board");
  if (!live || !board || !window.EventSource) { return; }
  var community = live.getAttribute("data-community");
  var busy = false, again = null;
  function refresh(at) {
    if (busy) { again = at; return; }
    busy = true;
    var url = "/hall/live?c=" + encodeURIComponent(community) + "&at=" + encodeURIComponent(at);
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        board.replaceChildren.apply(board, Array.prototype.slice.call(doc.body.childNodes));
        live.classList.remove("off");
        board.setAttribute("data-position", at);
      })
      .catch(function () { live.classList.add("off"); })
      .then(function () {
        busy = false;
        if (again !== null) { var a = again; again = null; refresh(a); }
      });
  }
  var source = new EventSource("/hall/events");
  source.addEventListener("position", function (e) { refresh(e.data); });
  source.onerror = function () { live.classList.add("off"); };
})();
