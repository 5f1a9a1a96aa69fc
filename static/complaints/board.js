// Drag and drop on the complaint board (native HTML5, no library): dropping a card on
// another column posts the same htmx move as the card's button; the server checks the move
// and answers the board's columns, with the error shown when the move is not allowed.
(function () {
  "use strict";
  var board = document.getElementById("board-columns");
  if (!board || typeof htmx === "undefined") {
    return;
  }
  var dragged = null;

  function filters() {
    var form = document.getElementById("complaint-filter");
    var values = {};
    if (form) {
      new FormData(form).forEach(function (value, key) {
        if (value !== "") {
          values[key] = value;
        }
      });
    }
    return values;
  }

  // Listeners on the container: they keep working after htmx swaps the columns.
  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("[data-move-url]");
    if (!card) {
      return;
    }
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
    card.classList.add("opacity-50");
  });
  board.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("opacity-50");
    }
    dragged = null;
    board.querySelectorAll(".drop-target").forEach(function (el) {
      el.classList.remove("drop-target", "bg-body-secondary");
    });
  });
  board.addEventListener("dragover", function (event) {
    var column = event.target.closest && event.target.closest("[data-drop-status]");
    if (!column || !dragged) {
      return;
    }
    event.preventDefault(); // allows the drop
    event.dataTransfer.dropEffect = "move";
    column.classList.add("drop-target", "bg-body-secondary");
  });
  board.addEventListener("dragleave", function (event) {
    var column = event.target.closest && event.target.closest("[data-drop-status]");
    if (column && !column.contains(event.relatedTarget)) {
      column.classList.remove("drop-target", "bg-body-secondary");
    }
  });
  board.addEventListener("drop", function (event) {
    var column = event.target.closest && event.target.closest("[data-drop-status]");
    if (!column || !dragged) {
      return;
    }
    event.preventDefault();
    var to = column.dataset.dropStatus;
    if (to === dragged.dataset.status) {
      return;
    }
    var values = filters();
    values.to = to;
    htmx.ajax("POST", dragged.dataset.moveUrl, {
      source: dragged,
      target: "#board-columns",
      swap: "innerHTML",
      values: values,
    });
  });
})();
