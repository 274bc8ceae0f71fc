/* 지원 요청: typing a need's description ticks its domain, ticking a domain moves to its
   description.  Only a convenience: the form works the same without this script. */
(function () {
  "use strict";
  document.querySelectorAll(".ieum-need-row").forEach(function (row) {
    var box = row.querySelector("input[type=checkbox]");
    var text = row.querySelector("input[type=text]");
    if (!box || !text) { return; }
    text.addEventListener("input", function () {
      if (text.value.trim() !== "") { box.checked = true; }
    });
    box.addEventListener("change", function () {
      if (box.checked && text.value.trim() === "") { text.focus(); }
    });
  });
}());
