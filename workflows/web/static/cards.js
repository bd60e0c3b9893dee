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

// A button that changes what everyone works on (the current process version) asks first.
(function () {
  document.querySelectorAll('button[data-confirm]').forEach(function (button) {
    button.form.addEventListener('submit', function (event) {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });
})();

// Deploying a bundle from the designer page: what it changes against the current version is
// fetched and shown first, and the deploy goes ahead only once confirmed.
(function () {
  var form = document.getElementById('upload-form');
  if (!form) return;
  form.addEventListener('submit', function (event) {
    var button = event.submitter;
    if (!button || button.value !== 'deploy' || form.dataset.confirmed === 'yes') return;
    event.preventDefault();
    var asked = new FormData(form);
    asked.set('action', 'check');
    asked.set('format', 'json');
    // getAttribute: the form's buttons are named "action", which shadows form.action.
    fetch(form.getAttribute('action'), { method: 'POST', body: asked, credentials: 'same-origin' })
      .then(function (response) { return response.json(); })
      .then(function (review) {
        if (!review.valid) { form.dataset.confirmed = 'yes'; button.click(); return; }  // the page lists the problems
        var against = review.against_version ? 'version ' + review.against_version : 'nothing deployed yet';
        var lines = (review.summary || []).map(function (line) { return '• ' + line; }).join('\n');
        if (review.dry_run_summary) lines += '\n\n' + review.dry_run_summary;
        if (!window.confirm('Deploy these changes against ' + against + '?\n\n' + lines)) {
          form.dataset.declined = String(Number(form.dataset.declined || 0) + 1);  // nothing sent
          return;
        }
        // Confirmed for these files against that version: the server deploys only those.
        [['confirmed', 'yes'], ['reviewed_hash', review.content_hash],
         ['against_version', review.against_version == null ? '' : String(review.against_version)]].forEach(function (pair) {
          var field = document.createElement('input');
          field.type = 'hidden'; field.name = pair[0]; field.value = pair[1];
          form.appendChild(field);
        });
        form.dataset.confirmed = 'yes';
        button.click();
      })
      .catch(function () {
        // No review to show here (the server answered a page): send the form as it is, and
        // the page it answers shows the review or the problem.
        form.dataset.confirmed = 'yes';
        button.click();
      });
  });
})();
