// Forms: "add another" for lists of entries, drafts that save themselves, and focus on the
// error summary after a refusal.
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
  // A task's form saves itself as one types, a moment after the typing stops, so that a
  // dropped connection between home visits or a closed tab loses nothing. Until the server
  // has it, the text is kept in this tab's session storage (gone when the tab closes) and put
  // back if the page is reloaded. Each save moves the task's version on; the form follows.
  document.querySelectorAll('form[data-autosave]').forEach(function (form) {
    var status = document.getElementById('autosave-status');
    // One person's unsaved text is theirs: another signing in on the same tab does not get it.
    var key = 'casework-draft:' + form.dataset.reader + ':' + form.dataset.autosave;
    var version = form.querySelector('input[name=version]');
    var timer = null;
    var sending = false;
    var waiting = null;
    var last = serialise();
    function serialise() {
      var pairs = [];
      new FormData(form).forEach(function (value, name) {
        if (name !== 'csrf_token' && name !== 'version' && name !== 'next') pairs.push([name, value]);
      });
      return JSON.stringify(pairs);
    }
    function say(text, failed) {
      if (!status) return;
      status.textContent = text;
      status.classList.toggle('failed', !!failed);
    }
    function restore() {
      var kept = sessionStorage.getItem(key);
      if (!kept || kept === last) return;
      var byName = {};
      JSON.parse(kept).forEach(function (pair) { (byName[pair[0]] = byName[pair[0]] || []).push(pair[1]); });
      form.querySelectorAll('input[name], select[name], textarea[name]').forEach(function (el) {
        var values = byName[el.name];
        if (el.type === 'hidden' || el.type === 'submit') return;
        if (el.type === 'checkbox' || el.type === 'radio') el.checked = !!values && values.indexOf(el.value) >= 0;
        else if (el.multiple) Array.prototype.forEach.call(el.options, function (o) { o.selected = !!values && values.indexOf(o.value) >= 0; });
        else if (values) el.value = values[0];
      });
      say('Restored what you typed here before the page was reloaded; it is not saved yet.', false);
      schedule();
    }
    function save() {
      timer = null;
      var now = serialise();
      if (now === last) return;
      if (sending) { schedule(); return; }
      sending = true;
      var body = new FormData(form);
      say('Saving…', false);
      fetch(form.dataset.draftUrl, { method: 'POST', body: body, credentials: 'same-origin' })
        .then(function (response) { return response.json().then(function (answer) { return [response.ok, answer]; }); })
        .then(function (result) {
          var answer = result[1];
          if (!result[0]) throw new Error(answer.message || 'not saved');
          last = now;
          if (version) version.value = answer.version;
          sessionStorage.removeItem(key);
          say('Draft saved at ' + answer.at + '.', false);
        })
        .catch(function (error) {
          say('Not saved: ' + error.message + ' What you typed is still here.', true);
        })
        .then(function () {
          sending = false;
          // Complete (or Save) was pressed while this save was on its way: send it now,
          // with the version this save moved the task to.
          if (waiting) { var by = waiting; waiting = null; form.requestSubmit(by); }
        });
    }
    function schedule() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(save, Number(form.dataset.autosaveDelay || 2000));
    }
    form.addEventListener('input', function () {
      sessionStorage.setItem(key, serialise());
      schedule();
    });
    form.addEventListener('change', function () {
      sessionStorage.setItem(key, serialise());
      schedule();
    });
    // Completing or saving by hand sends the text itself: nothing is left to keep.
    form.addEventListener('submit', function (event) {
      if (timer) { clearTimeout(timer); timer = null; }
      if (sending) { event.preventDefault(); waiting = event.submitter || null; return; }
      sessionStorage.removeItem(key);
    });
    restore();
  });
  var errors = document.getElementById('errors');
  if (errors) errors.focus();
})();
