// casework's own group in the properties panel: what a designer of a casework process edits —
// a flow's condition, a timer (its kind, its expression, the deadline it stands for), a script,
// a message (its name, payload, variable), a lane's role, a user task's form, a call activity's
// process, a business rule task's decision. Expressions and scripts are sent to the server as
// they are typed and checked by the compiler validation uses; its objection shows on the field.
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';
import { useService } from 'bpmn-js-properties-panel';
import {
  SelectEntry, TextAreaEntry, TextFieldEntry,
  isSelectEntryEdited, isTextAreaEntryEdited, isTextFieldEntryEdited
} from '@bpmn-io/properties-panel';
import { useEffect } from '@bpmn-io/properties-panel/preact/hooks';

const TIMER_KINDS = [
  { value: 'timeDate', label: 'At an instant (timeDate)' },
  { value: 'timeDuration', label: 'After a duration (timeDuration)' },
  { value: 'timeCycle', label: 'Repeating (timeCycle)' }
];

// -- the checks ------------------------------------------------------------------------------

function CaseworkChecks(eventBus, design) {
  const errors = {};
  const latest = {};
  const show = () => eventBus.fire('propertiesPanel.setErrors', { errors: { ...errors } });
  eventBus.on('selection.changed', () => {
    Object.keys(errors).forEach((id) => delete errors[id]);
    show();
  });
  this.check = function (id, kind, source) {
    const asked = (latest[id] = (latest[id] || 0) + 1);
    if (!source || !source.trim()) {
      delete errors[id];
      show();
      return;
    }
    fetch(design.checkUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': design.csrf },
      body: JSON.stringify({ kind: kind, source: source })
    })
      .then((response) => response.json())
      .then((answer) => {
        if (asked !== latest[id]) return; // a later edit's answer decides
        if (answer.error) errors[id] = answer.error;
        else delete errors[id];
        show();
      })
      .catch(() => {});
  };
}
CaseworkChecks.$inject = ['eventBus', 'config.casework'];

// -- the model -------------------------------------------------------------------------------

function timerOf(element) {
  const definitions = getBusinessObject(element).eventDefinitions || [];
  return definitions.find((d) => is(d, 'bpmn:TimerEventDefinition'));
}

function messageOf(element) {
  const definitions = getBusinessObject(element).eventDefinitions || [];
  return definitions.find((d) => is(d, 'bpmn:MessageEventDefinition'));
}

function extensionOf(owner, type) {
  const values = (owner.extensionElements && owner.extensionElements.values) || [];
  return values.find((v) => is(v, type));
}

function setExtension(element, owner, type, value, bpmnFactory, modeling) {
  let extensions = owner.extensionElements;
  if (!extensions) {
    extensions = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    modeling.updateModdleProperties(element, owner, { extensionElements: extensions });
  }
  const found = extensionOf(owner, type);
  if (found) {
    modeling.updateModdleProperties(element, found, { value: value });
  } else {
    const created = bpmnFactory.create(type, { value: value });
    modeling.updateModdleProperties(element, extensions, { values: [...extensions.values, created] });
  }
}

function isConditional(element) {
  const source = element.source && getBusinessObject(element.source);
  return is(element, 'bpmn:SequenceFlow') && source &&
    (is(source, 'bpmn:ExclusiveGateway') || is(source, 'bpmn:InclusiveGateway')) &&
    source.default !== getBusinessObject(element);
}

// -- the entries -----------------------------------------------------------------------------

function CheckedText(props) {
  const { element, id, label, kind, description, get, set, rows } = props;
  const checks = useService('caseworkChecks');
  const debounce = useService('debounceInput');
  useEffect(() => { checks.check(id, kind, get(element)); }, [element]);
  const Entry = rows > 1 ? TextAreaEntry : TextFieldEntry;
  return Entry({
    element, id, label, description, debounce, rows, monospace: true,
    getValue: () => get(element) || '',
    setValue: (value) => { set(element, value); checks.check(id, kind, value); }
  });
}

function ConditionEntry({ element, id }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  return CheckedText({
    element, id, kind: 'expression', rows: 2, label: 'Condition',
    description: 'A Python expression on the process data, e.g. approved == True',
    get: (el) => { const c = getBusinessObject(el).conditionExpression; return c && c.body; },
    set: (el, value) => modeling.updateProperties(el, {
      conditionExpression: value ? bpmnFactory.create('bpmn:FormalExpression', { body: value }) : undefined
    })
  });
}

function TimerKindEntry({ element, id }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const kindOf = (el) => TIMER_KINDS.map((k) => k.value).find((k) => timerOf(el)[k]) || 'timeDate';
  return SelectEntry({
    element, id, label: 'Timer kind',
    getOptions: () => TIMER_KINDS,
    getValue: kindOf,
    setValue: (kind) => {
      const timer = timerOf(element);
      const current = timer[kindOf(element)];
      const body = current ? current.body : '';
      modeling.updateModdleProperties(element, timer, {
        timeDate: undefined, timeDuration: undefined, timeCycle: undefined,
        [kind]: bpmnFactory.create('bpmn:FormalExpression', { body: body })
      });
    }
  });
}

function TimerEntry({ element, id }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const design = useService('config.casework');
  const kindOf = (el) => TIMER_KINDS.map((k) => k.value).find((k) => timerOf(el)[k]) || 'timeDate';
  const deadlines = (design.deadlines || {})[element.id] || [];
  return CheckedText({
    element, id, kind: 'timer', rows: 1, label: 'Timer expression',
    description: (deadlines.length ? 'The profile\u2019s deadline: ' + deadlines.join('; ') + '. ' : '') +
      'An expression: "PT24H" in quotes, duration(hours=24), end_of_day(add_days(received_at, 3))',
    get: (el) => { const t = timerOf(el)[kindOf(el)]; return t && t.body; },
    set: (el, value) => modeling.updateModdleProperties(el, timerOf(el), {
      [kindOf(el)]: bpmnFactory.create('bpmn:FormalExpression', { body: value })
    })
  });
}

function ScriptEntry({ element, id }) {
  const modeling = useService('modeling');
  return CheckedText({
    element, id, kind: 'script', rows: 6, label: 'Script',
    description: 'Python, in casework\u2019s sandbox: the helpers add_days, end_of_day, duration\u2026',
    get: (el) => getBusinessObject(el).script,
    set: (el, value) => modeling.updateProperties(el, { script: value })
  });
}

function MessageNameEntry({ element, id }) {
  const modeling = useService('modeling');
  return TextFieldEntry({
    element, id, label: 'Message name', debounce: useService('debounceInput'),
    description: 'Processes send and catch a message by its name',
    getValue: (el) => { const m = messageOf(el).messageRef; return (m && m.name) || ''; },
    setValue: (value) => {
      const message = messageOf(element).messageRef;
      if (message) modeling.updateModdleProperties(element, message, { name: value });
    },
    validate: (value) => (value && value.trim() ? null : 'A message needs a name')
  });
}

function PayloadEntry({ element, id }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  return CheckedText({
    element, id, kind: 'expression', rows: 3, label: 'Message payload',
    description: 'An expression: what the message carries, e.g. {"due": next_due}',
    get: (el) => { const p = extensionOf(messageOf(el), 'spiffworkflow:MessagePayload'); return p && p.value; },
    set: (el, value) => setExtension(el, messageOf(el), 'spiffworkflow:MessagePayload', value, bpmnFactory, modeling)
  });
}

function VariableEntry({ element, id }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  return TextFieldEntry({
    element, id, label: 'Message variable', debounce: useService('debounceInput'),
    description: 'The name the payload is kept under in the process data',
    getValue: (el) => { const v = extensionOf(messageOf(el), 'spiffworkflow:MessageVariable'); return (v && v.value) || ''; },
    setValue: (value) => setExtension(element, messageOf(element), 'spiffworkflow:MessageVariable', value, bpmnFactory, modeling),
    validate: (value) => (!value || /^[A-Za-z][A-Za-z0-9_]*$/.test(value) ? null : 'A name: letters, digits and _')
  });
}

function RoleEntry({ element, id }) {
  const modeling = useService('modeling');
  const design = useService('config.casework');
  return SelectEntry({
    element, id, label: 'Role',
    description: 'Who does the lane\u2019s tasks',
    getOptions: () => [{ value: '', label: '(choose a role)' }, ...design.roles.map((r) => ({ value: r, label: r.replace(/_/g, ' ') }))],
    getValue: (el) => getBusinessObject(el).name || '',
    setValue: (value) => modeling.updateProperties(element, { name: value })
  });
}

function ProcessEntry({ element, id }) {
  const modeling = useService('modeling');
  const design = useService('config.casework');
  return SelectEntry({
    element, id, label: 'Process called',
    getOptions: () => design.processes.map((p) => ({ value: p, label: p })),
    getValue: (el) => getBusinessObject(el).calledElement || '',
    setValue: (value) => modeling.updateProperties(element, { calledElement: value })
  });
}

function DecisionEntry({ element, id }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const design = useService('config.casework');
  return SelectEntry({
    element, id, label: 'Decision',
    getOptions: () => design.decisions.map((d) => ({ value: d, label: d })),
    getValue: (el) => { const d = extensionOf(getBusinessObject(el), 'spiffworkflow:CalledDecisionId'); return (d && d.value) || ''; },
    setValue: (value) => setExtension(element, getBusinessObject(element), 'spiffworkflow:CalledDecisionId', value, bpmnFactory, modeling)
  });
}

function FormEntry({ element, id }) {
  const design = useService('config.casework');
  const path = 'forms/' + getBusinessObject(element).id + '.schema.json';
  const known = design.forms.indexOf(path) >= 0;
  return (
    <div class="bio-properties-panel-entry" data-entry-id={id}>
      <label class="bio-properties-panel-label">Form</label>
      {known
        ? <a href={design.fileUrl.replace('__PATH__', path)} target="_blank" rel="noopener">{path} (edit, with its preview)</a>
        : <p class="bio-properties-panel-description">No {path}: the task asks for a confirmation only. A form is the file named for the task\u2019s id. <a href={design.fileUrl.replace('__PATH__', path)} target="_blank" rel="noopener">Create its form</a></p>}
    </div>
  );
}

// -- the provider ----------------------------------------------------------------------------

function entriesFor(element) {
  const entries = [];
  const add = (id, component, isEdited) => entries.push({ id, component, isEdited });
  if (isConditional(element)) add('cw-condition', ConditionEntry, isTextAreaEntryEdited);
  if (is(element, 'bpmn:Event') && timerOf(element)) {
    add('cw-timer-kind', TimerKindEntry, isSelectEntryEdited);
    add('cw-timer', TimerEntry, isTextFieldEntryEdited);
  }
  if (is(element, 'bpmn:ScriptTask')) add('cw-script', ScriptEntry, isTextAreaEntryEdited);
  if (is(element, 'bpmn:Event') && messageOf(element) && messageOf(element).messageRef) {
    add('cw-message-name', MessageNameEntry, isTextFieldEntryEdited);
    if (is(element, 'bpmn:ThrowEvent')) add('cw-payload', PayloadEntry, isTextAreaEntryEdited);
    else add('cw-variable', VariableEntry, isTextFieldEntryEdited);
  }
  if (is(element, 'bpmn:Lane')) add('cw-role', RoleEntry, isSelectEntryEdited);
  if (is(element, 'bpmn:UserTask')) add('cw-form', FormEntry, () => false);
  if (is(element, 'bpmn:CallActivity')) add('cw-process', ProcessEntry, isSelectEntryEdited);
  if (is(element, 'bpmn:BusinessRuleTask')) add('cw-decision', DecisionEntry, isSelectEntryEdited);
  return entries;
}

function CaseworkPropertiesProvider(propertiesPanel) {
  propertiesPanel.registerProvider(400, this);
}
CaseworkPropertiesProvider.prototype.getGroups = function (element) {
  return function (groups) {
    const entries = entriesFor(element);
    if (entries.length) {
      groups.splice(1, 0, { id: 'casework', label: 'casework', entries, shouldOpen: true });
    }
    return groups;
  };
};
CaseworkPropertiesProvider.$inject = ['propertiesPanel'];

export default {
  __init__: ['caseworkPropertiesProvider', 'caseworkChecks'],
  caseworkPropertiesProvider: ['type', CaseworkPropertiesProvider],
  caseworkChecks: ['type', CaseworkChecks]
};
