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
  // A number that counts the entries of another list (an allegation's child) becomes a choice
  // among those entries by name. Entries are counted as the server counts them: rows left
  // wholly empty are not entries.
  function entries(form, list) {
    var set = form.querySelector('fieldset.rows[data-rows="' + list + '"]');
    if (!set) return [];
    var found = [];
    set.querySelectorAll(':scope > .row-item').forEach(function (row) {
      var filled = Array.prototype.some.call(
        row.querySelectorAll('input:not([type=hidden]), select, textarea'),
        function (el) { return el.type === 'checkbox' ? el.checked : el.value.trim() !== ''; });
      if (!filled) return;
      var name = row.querySelector('input[name$=".name"]');
      found.push((name && name.value.trim()) || '(no name yet)');
    });
    return found;
  }
  function refresh(form) {
    form.querySelectorAll('[data-person-of]').forEach(function (field) {
      var select = field;
      if (field.tagName === 'INPUT') {
        select = document.createElement('select');
        Array.prototype.forEach.call(field.attributes, function (a) {
          if (['type', 'inputmode', 'value'].indexOf(a.name) < 0) select.setAttribute(a.name, a.value);
        });
        select.dataset.chosen = field.value.trim();
        field.replaceWith(select);
      }
      var chosen = select.value || select.dataset.chosen || '';
      select.dataset.chosen = '';
      select.innerHTML = '';
      select.add(new Option('—', ''));
      entries(form, select.dataset.personOf).forEach(function (name, i) {
        var number = String(i + 1);
        select.add(new Option(number + ' — ' + name, number, false, number === chosen));
      });
    });
  }
  document.querySelectorAll('form').forEach(function (form) {
    if (!form.querySelector('[data-person-of]')) return;
    refresh(form);
    form.addEventListener('input', function (event) {
      if (!event.target.matches('[data-person-of]')) refresh(form);
    });
    form.addEventListener('click', function (event) {
      if (event.target.matches('.add-row')) refresh(form);
    });
  });
  var errors = document.getElementById('errors');
  if (errors) errors.focus();
})();
