// The case page's diagrams: each phase drawn by bpmn-js with where it waits, what is done and
// the pending timers marked, and inside it each process a call activity runs, drawn from its
// own diagram. A timer carries a small numbered badge at its corner (the list under the
// diagram gives each number's due date), so no label is covered. Diagrams are drawn when
// their phase is first opened; on a phone the phases start folded.
(function () {
  function read(el, name) { return JSON.parse(el.getAttribute(name) || '[]'); }

  function draw(container) {
    if (container.dataset.drawn) return;
    container.dataset.drawn = '1';
    var viewer = new BpmnJS({ container: container });
    container.cwViewer = viewer;
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
        read(container, 'data-timers').forEach(function (timer, index) {
          if (!registry.get(timer.element_id)) return;
          mark(timer.element_id, 'cw-timer');
          var badge = document.createElement('span');
          badge.className = 'timer-badge';
          badge.textContent = String(index + 1);
          badge.title = (timer.name || timer.element_id) + ': due ' + timer.due_label;
          overlays.add(timer.element_id, { position: { top: -9, right: 3 }, html: badge });
        });
        canvas.zoom('fit-viewport');
        container.dataset.ready = '1';
      })
      .catch(function (error) {
        container.textContent = 'The diagram could not be drawn: ' + error.message;
        container.dataset.ready = 'error';
      });
  }

  // Zoom in, out and fit, beside each diagram (the mouse wheel and dragging work too).
  document.querySelectorAll('.diagram-tools').forEach(function (tools) {
    var container = tools.nextElementSibling;
    tools.addEventListener('click', function (event) {
      var button = event.target.closest('button[data-zoom]');
      if (!button || !container.cwViewer) return;
      var canvas = container.cwViewer.get('canvas');
      var how = button.dataset.zoom;
      if (how === 'fit') canvas.zoom('fit-viewport', 'auto');
      else canvas.zoom(canvas.zoom() * (how === 'in' ? 1.25 : 0.8));
    });
  });

  var phone = window.matchMedia('(max-width: 700px)').matches;
  document.querySelectorAll('details.phase').forEach(function (phase) {
    var containers = phase.querySelectorAll('.diagram');
    function drawAll() { containers.forEach(draw); }
    if (phone) phase.open = false;  // the summary says where it waits; the drawing on demand
    if (phase.open) drawAll();
    phase.addEventListener('toggle', function () { if (phase.open) drawAll(); });
  });
})();
