/* Small form helpers; every form works the same without this script.

   - Character counters: a field with data-maxlength has a hidden counter
     (<p data-counter-for="id" data-text="{count}/{max}자" data-over="…">) shown and kept current
     here; past the limit the counter turns into the message (the server refuses the text too).
   - Enter: in a form marked data-enter-guard, Enter in a one-line field does not submit the
     whole form; a field with data-enter-button="id" presses that button instead (a search box). */
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : all;
    });
  }

  document.querySelectorAll("[data-counter-for]").forEach(function (counter) {
    var field = document.getElementById(counter.getAttribute("data-counter-for"));
    var max = field ? parseInt(field.getAttribute("data-maxlength"), 10) : NaN;
    if (!field || isNaN(max)) { return; }
    var number = new Intl.NumberFormat(document.documentElement.lang || undefined);
    var serverError = field.getAttribute("aria-invalid") === "true";
    function update() {
      var count = Array.from(field.value).length;
      var over = count - max;
      counter.textContent = over > 0
        ? fill(counter.getAttribute("data-over"), {max: number.format(max), over: number.format(over)})
        : fill(counter.getAttribute("data-text"), {count: number.format(count), max: number.format(max)});
      counter.classList.toggle("form-hint-invalid", over > 0);
      counter.classList.toggle("form-hint", over <= 0);
      if (over > 0) { field.setAttribute("aria-invalid", "true"); }
      else if (!serverError) { field.removeAttribute("aria-invalid"); }
    }
    counter.hidden = false;
    field.addEventListener("input", update);
    update();
  });

  var ONE_LINE = /^(text|search|email|tel|url|number|date|password)$/;
  document.querySelectorAll("form[data-enter-guard]").forEach(function (form) {
    form.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key !== "Enter" || event.isComposing || target.tagName !== "INPUT" || !ONE_LINE.test(target.type)) {
        return;
      }
      event.preventDefault();
      var button = target.getAttribute("data-enter-button");
      if (button && document.getElementById(button)) { document.getElementById(button).click(); }
    });
  });
}());
