// The Workflow menu is a <details>: Escape closes it, as it does any menu, and gives
// the focus back to its button when it was inside; a click elsewhere closes it too.
"use strict";
(function () {
  function openMenus() {
    return document.querySelectorAll(".workflow-menu details[open]");
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    openMenus().forEach(function (menu) {
      const hadFocus = menu.contains(document.activeElement);
      menu.open = false;
      if (hadFocus) {
        menu.querySelector("summary").focus();
      }
    });
  });
  document.addEventListener("click", function (event) {
    openMenus().forEach(function (menu) {
      if (!menu.contains(event.target)) {
        menu.open = false;
      }
    });
  });
})();
