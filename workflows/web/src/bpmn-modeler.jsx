// The designer's BPMN modeler: bpmn-js with its properties panel and casework's own group of
// properties, each checked as it is typed by the same compiler validation uses (the server's
// answer is shown on the field). Built by esbuild from the lockfile (`make`), served from
// static/build/.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import CaseworkPropertiesModule from './casework-properties.jsx';
import spiffworkflow from './spiffworkflow.json';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';

window.CaseworkBpmnModeler = function (container, panel, design) {
  return new BpmnModeler({
    container: container,
    propertiesPanel: { parent: panel },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CaseworkPropertiesModule],
    moddleExtensions: { spiffworkflow: spiffworkflow },
    casework: design
  });
};
