/* 통계 조건: show only the period fields the chosen 기간 uses (학년도·학기, 월, 시작·끝 월).
   Only a convenience: without this script every field shows and the form works the same. */
(function () {
  "use strict";
  var period = document.querySelector("[data-report-period] select, select[name=period]");
  if (!period) { return; }
  var uses = {year: ["year"], semester: ["year", "semester"], month: ["month"], custom: ["from", "to"]};
  var names = ["year", "semester", "month", "from", "to"];
  function update() {
    var shown = uses[period.value] || [];
    names.forEach(function (name) {
      var control = document.querySelector("[name=" + name + "]");
      var group = control && control.closest(".form-group");
      if (group) { group.classList.toggle("report-filter-off", shown.indexOf(name) === -1); }
    });
  }
  period.addEventListener("change", update);
  update();
}());
