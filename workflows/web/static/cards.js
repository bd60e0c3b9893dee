// On a phone, a list table reads as cards: each cell carries its column's heading, which the
// stylesheet shows before the value once the heading row is hidden.
(function () {
  document.querySelectorAll('table.cards').forEach(function (table) {
    var headings = Array.prototype.map.call(table.querySelectorAll('thead th'), function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll('tbody tr').forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (headings[i] && !cell.hasAttribute('colspan')) cell.dataset.label = headings[i];
      });
    });
  });
})();
