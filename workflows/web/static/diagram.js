// The case page's diagrams: each phase drawn by bpmn-js with where it waits, what is done and
// the pending timers (with their due dates) marked. Phases are drawn when first shown.
(function () {
  function read(el, name) { return JSON.parse(el.getAttribute(name) || '[]'); }

  function draw(container) {
    if (container.dataset.drawn) return;
    container.dataset.drawn = '1';
    var viewer = new BpmnJS({ container: container });
    fetch(container.dataset.diagram, { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error('diagram ' + r.status); return r.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get('canvas');
        var registry = viewer.get('elementRegistry');
        var overlays = viewer.get('overlays');
        function mark(id, css) { if (registry.get(id)) canvas.addMarker(id, css); }
        read(container, 'data-completed').forEach(function (id) { mark(id, 'cw-done'); });
        read(container, 'data-active').forEach(function (id) { mark(id, 'cw-active'); });
        read(container, 'data-timers').forEach(function (timer) {
          if (!registry.get(timer.element_id)) return;
          mark(timer.element_id, 'cw-timer');
          var note = document.createElement('div');
          note.className = 'timer-note';
          note.textContent = 'due ' + timer.due_label;
          overlays.add(timer.element_id, { position: { bottom: 12, left: -10 }, html: note });
        });
        canvas.zoom('fit-viewport');
        container.dataset.ready = '1';
      })
      .catch(function (error) {
        container.textContent = 'The diagram could not be drawn: ' + error.message;
        container.dataset.ready = 'error';
      });
  }

  document.querySelectorAll('details.phase').forEach(function (phase) {
    var container = phase.querySelector('.diagram');
    if (phase.open) draw(container);
    phase.addEventListener('toggle', function () { if (phase.open) draw(container); });
  });
})();
