"use strict";
(function () {
  // Sorting: a click on a header sorts its table's rows by that column, numbers as numbers (data-v when
  // present), a second click reverses. Filtering: a search box hides the rows whose text lacks the query.
  function cellKey(row, i) {
    var c = row.cells[i];
    if (!c) { return ""; }
    return c.hasAttribute("data-v") ? c.getAttribute("data-v") : c.textContent;
  }
  function compare(a, b) {
    var na = Number(a), nb = Number(b);
    if (a !== "" && b !== "" && !isNaN(na) && !isNaN(nb)) { return na - nb; }
    return a.localeCompare(b);
  }
  function sortBy(table, th) {
    var i = th.cellIndex;
    var asc = th.getAttribute("aria-sort") !== "ascending";
    var heads = table.tHead.rows[0].cells;
    for (var h = 0; h < heads.length; h++) { heads[h].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (x, y) {
      var d = compare(cellKey(x, i), cellKey(y, i));
      return asc ? d : -d;
    });
    for (var r = 0; r < rows.length; r++) { body.appendChild(rows[r]); }
  }
  function updateCount(id) {
    var table = document.getElementById(id);
    var out = document.querySelector('[data-count-for="' + id + '"]');
    if (!table || !out) { return; }
    var rows = table.tBodies[0].rows, shown = 0;
    for (var r = 0; r < rows.length; r++) { if (!rows[r].hidden) { shown++; } }
    out.textContent = shown + " of " + rows.length + " rows";
  }
  function filter(input) {
    var id = input.getAttribute("data-filter");
    var table = document.getElementById(id);
    if (!table) { return; }
    var q = input.value.toLowerCase();
    var rows = table.tBodies[0].rows;
    for (var r = 0; r < rows.length; r++) {
      rows[r].hidden = q !== "" && rows[r].textContent.toLowerCase().indexOf(q) < 0;
    }
    updateCount(id);
  }
  var tables = document.querySelectorAll("table.sortable");
  for (var t = 0; t < tables.length; t++) {
    (function (table) {
      var heads = table.tHead.rows[0].cells;
      for (var h = 0; h < heads.length; h++) {
        heads[h].tabIndex = 0;
        heads[h].addEventListener("click", function (e) { sortBy(table, e.currentTarget); });
        heads[h].addEventListener("keydown", function (e) {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, e.currentTarget); }
        });
      }
      if (table.id) { updateCount(table.id); }
    })(tables[t]);
  }
  var inputs = document.querySelectorAll("input[data-filter]");
  for (var i = 0; i < inputs.length; i++) {
    inputs[i].addEventListener("input", function (e) { filter(e.currentTarget); });
  }
})();
