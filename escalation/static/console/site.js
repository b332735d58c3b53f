/* Behaviour the pages used to carry inline: the Content-Security-Policy runs scripts from this
   site only (incidents/headers.py). Every page loads this file (templates/base.html).
   - <select data-autosubmit>: choosing an option submits its form (the language switch)
   - [data-confirm="question"] on a button or form: ask before submitting
   - <button data-copy="field-id">: copy that field's text; the next element says data-copied
   - every table cell gets its column's header as data-label (a phone shows rows as labelled cards)
   - keyboard shortcuts on the board and the incident page, listed by "?" (<dialog id="shortcuts">) */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) { select.form.submit(); }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) { event.preventDefault(); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var field = document.getElementById(button.dataset.copy);
    var done = function () { button.nextElementSibling.textContent = button.dataset.copied || ""; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done);
    } else {
      field.select(); document.execCommand("copy"); done();
    }
  });
  function labelCells(root) {
    root.querySelectorAll("table").forEach(function (table) {
      var heads = table.querySelectorAll("tr:first-child > th[scope=col], thead th");
      if (!heads.length) { return; }
      var names = Array.prototype.map.call(heads, function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, i) {
          if (cell.tagName === "TD" && names[i] && !cell.dataset.label) { cell.dataset.label = names[i]; }
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { labelCells(document); });
  document.addEventListener("htmx:afterSettle", function (event) { labelCells(event.target); });
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }
  function boardMove(step) {
    var links = Array.prototype.slice.call(document.querySelectorAll("#board a[href*='/incidents/']"));
    if (!links.length) { return; }
    var i = links.indexOf(document.activeElement);
    links[Math.max(0, Math.min(links.length - 1, i < 0 ? 0 : i + step))].focus();
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var help = document.getElementById("shortcuts");
    if (event.key === "?" && help) { help.open ? help.close() : help.showModal(); return; }
    var ack = document.querySelector("[data-action=acknowledge] form");
    var next = document.querySelector("#next-steps ~ details");
    var update = document.getElementById("update-body");
    if (event.key === "a" && ack) { event.preventDefault(); ack.requestSubmit(); }
    else if (event.key === "n" && next) {
      event.preventDefault(); next.open = true;
      (next.querySelector("select, textarea, input:not([type=hidden]), button") || next).focus();
    }
    else if (event.key === "u" && update) { event.preventDefault(); update.focus(); }
    else if (event.key === "j" && document.getElementById("board")) { event.preventDefault(); boardMove(1); }
    else if (event.key === "k" && document.getElementById("board")) { event.preventDefault(); boardMove(-1); }
    else if (event.key === "b" && document.querySelector("[data-back-to-board]")) {
      window.location.href = document.querySelector("[data-back-to-board]").href;
    }
  });
})();
