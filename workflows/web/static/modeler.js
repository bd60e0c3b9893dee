// The designer's editor: a BPMN file in the bpmn-js modeler, a DMN file in dmn-js (opened on its
// decision table), a form or profile as text. Validate and deploy send the edited file; the
// server checks it within the whole bundle and answers with each problem and its element.
(function () {
  var box = document.getElementById('editor');
  var kind = box.dataset.kind;
  var result = document.getElementById('result');
  var list = document.getElementById('problems');
  var modeler = null;
  var marked = [];

  // Edits not yet deployed are lost on leaving: the browser asks first.
  var unsaved = false;
  function edited() { unsaved = true; box.dataset.unsaved = '1'; }
  function deployed() { unsaved = false; delete box.dataset.unsaved; }
  window.addEventListener('beforeunload', function (event) {
    if (!unsaved) return;
    event.preventDefault();
    event.returnValue = '';
  });

  function say(text, ok) {
    result.textContent = text;
    result.className = 'flash ' + (ok ? 'info' : 'error');
  }

  function diagramCanvas() {
    if (kind === 'bpmn') return modeler.get('canvas');
    if (kind === 'dmn') {
      var viewer = modeler.getActiveViewer();
      try { return viewer.get('canvas'); } catch (e) { return null; }
    }
    return null;
  }

  // A decision table has no canvas: its cells carry their entry's id, so mark the cell.
  function markCell(id) {
    var cell = box.querySelector('[data-element-id="' + CSS.escape(id) + '"]');
    if (cell) { cell.classList.add('cw-problem-cell'); cell.title = 'See the problem below'; }
    return !!cell;
  }

  function showProblems(problems) {
    var canvas = diagramCanvas();
    marked.forEach(function (id) { try { canvas.removeMarker(id, 'cw-problem'); } catch (e) {} });
    box.querySelectorAll('.cw-problem-cell').forEach(function (c) { c.classList.remove('cw-problem-cell'); });
    marked = [];
    list.innerHTML = '';
    problems.forEach(function (p) {
      var item = document.createElement('li');
      var where = p.file + (p.line ? ':' + p.line : '') + (p.element_id ? ' · ' + p.element_id : '');
      item.textContent = where + ': ' + p.message;
      item.dataset.element = p.element_id || '';
      if (p.element_id && !canvas) markCell(p.element_id);
      if (p.element_id && canvas) {
        try {
          canvas.addMarker(p.element_id, 'cw-problem');
          marked.push(p.element_id);
          item.tabIndex = 0;
          item.addEventListener('click', function () {
            var registry = modeler.get('elementRegistry');
            var element = registry.get(p.element_id);
            if (element) { modeler.get('selection').select(element); canvas.scrollToElement(element); }
          });
        } catch (e) { /* the element is not on this view */ }
      }
      list.appendChild(item);
    });
  }

  function content() {
    if (kind === 'bpmn' || kind === 'dmn') {
      return modeler.saveXML({ format: true }).then(function (r) { return r.xml; });
    }
    return Promise.resolve(document.getElementById('source').value);
  }

  function send(url) {
    return content().then(function (text) {
      return fetch(url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': box.dataset.csrf },
        body: JSON.stringify({ path: box.dataset.path, content: text })
      });
    }).then(function (response) { return response.json(); });
  }

  document.getElementById('check').addEventListener('click', function () {
    say('Validating…', true);
    send(box.dataset.check).then(function (body) {
      showProblems(body.problems || []);
      if (body.ok) {
        var changed = (body.summary || []).join('; ');
        var against = body.against_version ? 'version ' + body.against_version : 'nothing deployed yet';
        var translated = (body.translations || []).map(function (t) {
          return t.element_id + ': ' + t.written + ' → ' + t.runs;
        });
        say('Valid: no problems in the bundle. Against ' + against + ': ' + changed +
            (body.dry_run_summary ? '. ' + body.dry_run_summary[0].toUpperCase() + body.dry_run_summary.slice(1) : '') +
            (translated.length ? '. Runs otherwise than written: ' + translated.join('; ') : ''), true);
      }
      else say((body.problems || []).length + ' problem(s); nothing was deployed.', false);
    }).catch(function (e) { say('Validation failed: ' + e.message, false); });
  });

  // Deploying shows first what changes against the current version, and asks.
  document.getElementById('deploy').addEventListener('click', function () {
    say('Checking what changes…', true);
    send(box.dataset.check).then(function (checked) {
      showProblems(checked.problems || []);
      if (!checked.ok) {
        say((checked.problems || []).length + ' problem(s); nothing was deployed.', false);
        return null;
      }
      var against = checked.against_version ? 'version ' + checked.against_version : 'nothing deployed yet';
      var lines = (checked.summary || []).map(function (line) { return '• ' + line; }).join('\n');
      if (!window.confirm('Deploy these changes against ' + against + '?\n\n' + lines)) {
        say('Not deployed.', true);
        return null;
      }
      say('Deploying…', true);
      return send(box.dataset.deploy);
    }).then(function (body) {
      if (body === null) return;
      showProblems(body.problems || []);
      if (body.ok) {
        say(body.created ? 'Deployed as version ' + body.version + '. New cases follow it; running cases keep their version.'
          : body.reactivated ? 'Version ' + body.version + ' already has this content: it is the current version again.'
          : 'Nothing changed: version ' + body.version + ' already has this content.', true);
        result.dataset.version = body.version;
        deployed();
      } else {
        say((body.problems || []).length + ' problem(s); nothing was deployed.', false);
      }
    }).catch(function (e) { say('Deploy failed: ' + e.message, false); });
  });

  // A form: the page it draws, redrawn by the server (the task page's own template) as the
  // designer types, with what is wrong with it.
  function preview() {
    var pane = document.getElementById('form-preview');
    var problems = document.getElementById('form-problems');
    return fetch(box.dataset.preview, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': box.dataset.csrf },
      body: JSON.stringify({ content: document.getElementById('source').value })
    }).then(function (r) { return r.json(); }).then(function (body) {
      problems.innerHTML = '';
      (body.problems || []).forEach(function (text) {
        var item = document.createElement('li');
        item.textContent = text;
        problems.appendChild(item);
      });
      if (body.html) pane.innerHTML = body.html;  // the server's template escapes every value
      pane.classList.toggle('stale', !body.html);
      pane.dataset.drawn = String(Number(pane.dataset.drawn || 0) + 1);
    });
  }

  if (kind !== 'bpmn' && kind !== 'dmn') {
    var waiting = null;
    // The preview is for looking: pressing Enter in it sends nothing (and loses no edit).
    var pane = document.getElementById('form-preview');
    if (pane) pane.addEventListener('submit', function (event) { event.preventDefault(); });
    document.getElementById('source').addEventListener('input', function () {
      edited();
      if (!box.dataset.preview) return;
      clearTimeout(waiting);
      waiting = setTimeout(preview, 250);
    });
    if (box.dataset.preview) preview().then(function () { box.dataset.ready = '1'; });
    else box.dataset.ready = '1';
    return;
  }
  function watchActiveView() {
    var viewer = modeler.getActiveViewer();
    if (viewer && !viewer.__cwWatched) { viewer.__cwWatched = true; viewer.on('commandStack.changed', edited); }
  }
  if (kind === 'bpmn') {
    var design = JSON.parse(box.dataset.design || '{}');
    design.checkUrl = box.dataset.checkExpression;
    design.csrf = box.dataset.csrf;
    design.fileUrl = box.dataset.fileUrl;
    modeler = window.CaseworkBpmnModeler(box, '#properties', design);
  } else {
    modeler = new DmnJS({ container: box });
  }
  fetch(box.dataset.source, { credentials: 'same-origin' })
    .then(function (r) { return r.text(); })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(function () {
      if (kind === 'dmn') {
        var table = modeler.getViews().find(function (v) { return v.type === 'decisionTable'; });
        if (table) return modeler.open(table);
      } else {
        modeler.get('canvas').zoom('fit-viewport');
      }
    })
    .then(function () {
      // Every view's command stack (the diagram, a decision table) counts as an edit.
      if (kind === 'bpmn') modeler.on('commandStack.changed', edited);
      else modeler.on('views.changed', watchActiveView);
      if (kind === 'dmn') watchActiveView();
      box.dataset.ready = '1';
    })
    .catch(function (e) { say('The file could not be opened: ' + e.message, false); box.dataset.ready = 'error'; });
})();
