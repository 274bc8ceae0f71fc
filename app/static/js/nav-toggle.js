/* The main menu behind a button on small screens (issue 15).
   Loaded without defer from <head>: marks the page as scripted at once (html.ieum-js), so that the
   stylesheet folds the menu before the first paint; without this script the menu stays open below
   the header and the button stays hidden.  Enter and Space open and close it (a native button),
   Escape closes it and returns focus to the button.
   Also: a table that scrolls sideways inside its wrapper (.ieum-table-scroll, small screens) can
   be reached and scrolled with the keyboard (tabindex=0 while it overflows). */
(function () {
  "use strict";
  document.documentElement.classList.add("ieum-js");

  function setOpen(header, button, open) {
    header.classList.toggle("ieum-menu-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function focusableScrollers() {
    document.querySelectorAll(".ieum-table-scroll").forEach(function (wrapper) {
      if (wrapper.scrollWidth > wrapper.clientWidth + 1) {
        wrapper.setAttribute("tabindex", "0");
      } else {
        wrapper.removeAttribute("tabindex");
      }
    });
  }

  function init() {
    focusableScrollers();
    window.addEventListener("resize", focusableScrollers);
    var button = document.querySelector("[data-menu-toggle]");
    var header = button && button.closest(".ieum-header");
    if (!header) {
      return;
    }
    setOpen(header, button, false);
    button.addEventListener("click", function () {
      setOpen(header, button, button.getAttribute("aria-expanded") !== "true");
    });
    header.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(header, button, false);
        button.focus();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
