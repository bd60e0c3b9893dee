// Forms: "add another" for lists of entries, and focus on the error summary after a refusal.
(function () {
  document.querySelectorAll('fieldset.rows').forEach(function (set) {
    var button = set.querySelector(':scope > .add-row');
    var template = set.querySelector(':scope > template');
    if (!button || !template) return;
    button.addEventListener('click', function () {
      var next = set.querySelectorAll(':scope > .row-item').length;
      var html = template.innerHTML.split('__row__').join(String(next));
      button.insertAdjacentHTML('beforebegin', html);
      var added = set.querySelectorAll(':scope > .row-item');
      var first = added[added.length - 1].querySelector('input, select, textarea');
      if (first) first.focus();
    });
  });
  var errors = document.getElementById('errors');
  if (errors) errors.focus();
})();
