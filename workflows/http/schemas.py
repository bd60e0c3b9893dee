"""JSON Schemas of the API's responses (and the bodies not defined by the engine)."""

from __future__ import annotations

from typing import Any

STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
INSTANT = {"type": "string", "format": "date-time"}
NINSTANT = {"type": ["string", "null"], "format": "date-time"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
OBJ = {"type": "object"}


def obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


CASE = obj(
    ["id", "case_number", "status", "profile_id", "sensitive", "opened_at"],
    id={"type": "string", "format": "uuid"},
    case_number=STR,
    status=STR,
    profile_id=STR,
    summary=STR,
    sensitive=BOOL,
    team=NSTR,
    assigned_to=NSTR,
    opened_at=INSTANT,
    closed_at=NINSTANT,
    expunged_at=NINSTANT,
    children=INT,
    open_tasks=INT,
    overdue_tasks=INT,
)
PERSON = obj(
    ["id", "role", "name"],
    id=STR,
    role=STR,
    name=NSTR,
    birth_date={"type": ["string", "null"], "format": "date"},
    details=OBJ,
)
ALLEGATION = obj(
    ["id", "victim_id", "type"],
    id=STR,
    victim_id=STR,
    perpetrator_id=NSTR,
    type=STR,
    narrative=STR,
    incident_date=NSTR,
    severity=NSTR,
    disposition=NSTR,
)
PROCESS = obj(
    ["instance_id", "process_id", "version_id", "status"],
    instance_id=STR,
    process_id=STR,
    version_id=INT,
    status=STR,
    started_at=INSTANT,
    next_timer_due_at=NINSTANT,
)
# One answer of a form in words: a text, a group of answers, or rows of them.
FACT: dict[str, Any] = {
    "type": "object",
    "required": ["field", "label"],
    "properties": {
        "field": STR,
        "label": STR,
        "text": STR,
        "format": {"enum": ["date", "date-time"], "description": "text is a date or an instant"},
        "facts": {"type": "array", "items": OBJ, "description": "a group: facts again"},
        "rows": {"type": "array", "items": {"type": "array", "items": OBJ}},
    },
}
_TIMES = {
    "occurred_at": INSTANT,
    "occurred_on": {"type": ["string", "null"], "format": "date"},
    "entered_at": INSTANT,
    "late_entry": BOOL,
}
RECORD_ENTRY = obj(
    ["id", "kind", "title", "occurred_at", "entered_at", "entered_by", "data", "facts"],
    id=STR,
    kind=STR,
    title=STR,
    task_id=NSTR,
    process_id=NSTR,
    element_id=NSTR,
    subject_id=NSTR,
    subject=NSTR,
    entered_by=STR,
    entered_role=NSTR,
    data=OBJ,
    facts={"type": "array", "items": FACT},
    amended=BOOL,
    amendments={
        "type": "array",
        "items": obj(["id", "entered_at", "entered_by", "reason"], id=STR, entered_by=STR,
                     reason=STR, **_TIMES),
    },
    original=obj(["data"], data=OBJ, facts={"type": "array"}, **_TIMES),
    **_TIMES,
)  # fmt: skip
AMENDMENT_BODY = obj(
    ["data", "reason"],
    data={"type": "object", "description": "The whole corrected form, as the task's form asks"},
    reason={"type": "string", "minLength": 10, "maxLength": 4000},
)
MY_SETTINGS = obj(
    ["email", "notify", "calendar_feed"],
    email=NSTR,
    notify={"enum": ["immediate", "digest", "none"]},
    calendar_feed=BOOL,
)
MY_SETTINGS_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "email": {"type": ["string", "null"], "maxLength": 320},
        "notify": {"type": "string", "maxLength": 16},
    },
}
CALENDAR_FEED = obj(["url"], url=STR)
HISTORY = obj(
    ["person_id", "role", "matches"],
    person_id=STR,
    name=NSTR,
    role=STR,
    birth_date=NSTR,
    matches={
        "type": "array",
        "items": obj(
            ["person_id", "restricted", "reason", "linked"],
            person_id=STR,
            name=NSTR,
            role=STR,
            case_id=STR,
            case_number=NSTR,
            status=STR,
            opened_at=INSTANT,
            closed_at=NINSTANT,
            expunged=BOOL,
            allegations={"type": "array", "items": OBJ},
            restricted=BOOL,
            reason=STR,
            linked=BOOL,
        ),
    },
)
LINK_BODY = obj(
    ["other_person_id", "linked"],
    other_person_id={"type": "string", "format": "uuid"},
    linked=BOOL,
)
LINK = obj(
    ["person_id", "other_person_id", "linked"],
    person_id=STR,
    other_person_id=STR,
    linked=BOOL,
    person_key=NSTR,
)
CASE_WORKER_BODY = obj(
    ["user_id"],
    user_id={"type": "string", "minLength": 1, "maxLength": 200},
    reason={"type": "string", "maxLength": 2000},
)
CASE_WORKER = obj(
    ["case_id", "assigned_to"],
    case_id=STR,
    assigned_to=STR,
    previous=NSTR,
    tasks_moved={"type": "array", "items": STR},
)
DEADLINE = obj(
    ["deadline_id", "title", "due_at", "status"],
    deadline_id=STR,
    title=STR,
    measure=NSTR,
    started_at=INSTANT,
    due_at=INSTANT,
    status=STR,
    done_at=NINSTANT,
    entered_at=NINSTANT,
    late_entry=BOOL,
    task_id=NSTR,
)
DECISION = obj(
    ["at", "element_id", "outputs"],
    at=INSTANT,
    process_id=NSTR,
    element_id=NSTR,
    outputs=OBJ,
)
CASE_FILE = {
    **CASE,
    "properties": {
        **CASE["properties"],
        "people": {"type": "array", "items": PERSON},
        "allegations": {"type": "array", "items": ALLEGATION},
        "processes": {"type": "array", "items": PROCESS},
        "record": {"type": "array", "items": RECORD_ENTRY},
        "deadlines": {"type": "array", "items": DEADLINE},
        "decisions": {"type": "array", "items": DECISION},
        "local": obj(
            ["time_zone", "date", "date_time", "role_titles"],
            time_zone=NSTR,
            date=NSTR,
            date_time=NSTR,
            role_titles={
                "type": "object",
                "additionalProperties": STR,
                "description": "casework's roles as the case's jurisdiction names them",
            },
        ),
    },
}
CONTACT = obj(
    ["id", "occurred_at", "type", "location", "narrative", "recorded_by"],
    id=STR,
    occurred_at=INSTANT,
    type=STR,
    location=STR,
    participants={"type": "array", "items": STR},
    narrative=STR,
    attempted_only=BOOL,
    recorded_by=STR,
    recorded_at=INSTANT,
)
TIMELINE_EVENT = obj(["at", "kind", "action"], at=INSTANT, kind=STR, action=STR)
POSITION = obj(
    ["instance_id", "process_id", "version_id", "status", "active", "completed", "pending_timers"],
    instance_id=STR,
    process_id=STR,
    version_id=INT,
    status=STR,
    active={"type": "array", "items": STR},
    completed={"type": "array", "items": STR},
    waiting_at={"type": "array", "items": STR},
    called={
        "type": "array",
        "items": obj(
            ["element_id", "process_id", "active", "completed", "finished"],
            element_id=STR,
            name=STR,
            caller_process_id=STR,
            process_id=STR,
            active={"type": "array", "items": STR},
            completed={"type": "array", "items": STR},
            finished=BOOL,
        ),
    },
    pending_timers={
        "type": "array",
        "items": obj(["element_id", "due_at"], element_id=STR, name=STR, due_at=INSTANT),
    },
    # A finished phase whose engine state retention gave up: its path is what was kept.
    compacted_at=NINSTANT,
)
TASK = obj(
    [
        "id",
        "case_id",
        "case_number",
        "process_id",
        "element_id",
        "name",
        "status",
        "created_at",
        "version",
    ],
    id={"type": "string", "format": "uuid"},
    case_id={"type": "string", "format": "uuid"},
    case_number=STR,
    process_id=STR,
    element_id=STR,
    name=STR,
    role=NSTR,
    assignee=NSTR,
    status=STR,
    created_at=INSTANT,
    due_at=NINSTANT,
    overdue=BOOL,
    version=INT,
    children={"type": "array", "items": STR, "description": "in a worklist: the case's children"},
    profile_id={"type": "string", "description": "in a worklist: the case's jurisdiction"},
    court_report_not_kept={
        "type": "boolean",
        "description": "the task is done but its court report could not be printed",
    },
    court_report_document_id={
        "type": "string",
        "format": "uuid",
        "description": "on completing a report task: the court report kept on the case",
    },
)
TASK_DETAIL = {
    **TASK,
    "properties": {
        **TASK["properties"],
        "form": OBJ,
        "data": OBJ,
        "context": OBJ,
        "context_in_words": OBJ,
        "draft": {"type": ["object", "null"]},
        "deadline": {
            "type": ["object", "null"],
            "properties": {"id": STR, "title": STR, "due_at": INSTANT, "status": STR},
        },
        "comments": {
            "type": "array",
            "items": obj(["author", "at", "text"], author=STR, at=INSTANT, text=STR),
        },
        "subject_id": NSTR,
        "subject": NSTR,
        "returned_notes": STR,
        "files_court_report": BOOL,
        "opens_case": {
            "type": "boolean",
            "description": "a task of the process the case opened with (its intake)",
        },
        "record": {"type": "array", "items": RECORD_ENTRY},
        "reviewing": {"type": "array", "items": RECORD_ENTRY},
    },
}
ALERT = obj(
    ["id", "kind", "case_id", "message", "raised_at"],
    id=STR,
    kind=STR,
    case_id=STR,
    case_number=STR,
    task_id=NSTR,
    deadline_id=NSTR,
    message=STR,
    due_at=NINSTANT,
    raised_at=INSTANT,
    acknowledged_by=NSTR,
    acknowledged_at=NINSTANT,
)
SHARE = obj(
    ["measure", "on_time", "total", "share"],
    measure=STR,
    on_time=INT,
    total=INT,
    share={"type": ["number", "null"]},
    description=STR,
)
CASELOAD = obj(
    ["teams", "workers", "measures"],
    teams={"type": "array", "items": STR},
    workers={
        "type": "array",
        "items": obj(
            ["user_id", "open_cases", "children", "overdue_tasks", "due_this_week"],
            user_id=STR,
            name=STR,
            team=NSTR,
            roles={"type": "array", "items": STR},
            open_cases=INT,
            children=INT,
            overdue_tasks=INT,
            due_this_week=INT,
            tasks_on_others_cases=INT,
        ),
    },
    measures=obj(
        ["initiation_timeliness", "caseworker_visits"],
        initiation_timeliness=SHARE,
        caseworker_visits=SHARE,
    ),
)
VERSION = obj(
    ["id", "content_hash", "process_ids", "deployed_at", "files"],
    id=INT,
    content_hash=STR,
    process_ids={"type": "array", "items": STR},
    deployed_at=INSTANT,
    deployed_by=STR,
    activated_at=INSTANT,
    current={"type": "boolean", "description": "new cases and phases start on this version"},
    files={"type": "array", "items": STR},
    active_instances=INT,
)
DEPLOYED = obj(
    ["version", "content_hash", "processes", "created"],
    version=INT,
    content_hash=STR,
    processes={"type": "array", "items": STR},
    created=BOOL,
    reactivated={
        "type": "boolean",
        "description": "these files were an earlier version: it is the current one again",
    },
)
ACTIVATED = obj(
    ["version", "content_hash", "processes", "activated_at"],
    version=INT,
    content_hash=STR,
    processes={"type": "array", "items": STR},
    previous_version={"type": ["integer", "null"]},
    activated_at=INSTANT,
)
MIGRATION = {
    "type": "object",
    "required": ["from_version", "to_version"],
    "additionalProperties": False,
    "properties": {
        "from_version": INT,
        "to_version": INT,
        "process_id": {"type": "string", "maxLength": 200},
        "renamed": {
            "type": "object",
            "description": "renamed elements: old id -> new id",
            "additionalProperties": {"type": "string", "maxLength": 200},
        },
        "dry_run": BOOL,
    },
}
MIGRATED = obj(
    ["instance_id", "case_number", "process_id", "moves"],
    instance_id=STR,
    case_number=STR,
    process_id=STR,
    moves=BOOL,
    why={"type": "string", "description": "why it cannot move"},
    waiting={"type": "array", "items": STR},
    cancelled={"type": "array", "items": STR},
    created={"type": "array", "items": STR},
)
VALIDATION = obj(
    ["valid", "problems"],
    valid=BOOL,
    problems={
        "type": "array",
        "items": obj(
            ["file", "message"],
            file=STR,
            line={"type": ["integer", "null"]},
            element_id=NSTR,
            message=STR,
        ),
    },
    against_version={"type": ["integer", "null"], "description": "the current version"},
    summary={"type": "array", "items": STR, "description": "the changes, a line each"},
    dry_run={
        "type": ["object", "null"],
        "description": "how far validation's walk through every process (answers made up "
        "from the forms, timers let fire) reached: user tasks and timers, and those it did "
        "not reach; null when the bundle does not compile",
        "properties": {
            "tasks": {"type": "integer"},
            "tasks_reached": {"type": "integer"},
            "timers": {"type": "integer"},
            "timers_reached": {"type": "integer"},
            "not_reached": {"type": "array", "items": STR},
        },
    },
    dry_run_summary={"type": ["string", "null"], "description": "the dry run's reach in words"},
    translations={
        "type": "array",
        "description": "what casework runs otherwise than written: another engine's constructs "
        "(Camunda, Zeebe, Flowable) read in casework's terms, each with what runs instead",
        "items": obj(["file", "written", "runs"], file=STR, element_id=NSTR, written=STR, runs=STR),
    },
    content_hash={"type": "string", "description": "the upload's content hash"},
    changes={
        "type": "object",
        "description": "what the upload changes against the current version: files added, "
        "removed and changed; per process its elements added, removed and changed (layout "
        "is not a change); per decision each rule, with its cells before and after; per "
        "form its fields; per profile the entries of each section",
        "properties": {
            "files": OBJ,
            "processes": {"type": "array", "items": OBJ},
            "decisions": {"type": "array", "items": OBJ},
            "forms": {"type": "array", "items": OBJ},
            "profiles": {"type": "array", "items": OBJ},
            "unchanged": BOOL,
        },
    },
)
AUDIT_EVENT = obj(
    ["id", "at", "actor", "action"],
    id=INT,
    at=INSTANT,
    actor=STR,
    actor_role=NSTR,
    action=STR,
    case_id=NSTR,
    case_number=NSTR,
    instance_id=NSTR,
    task_id=NSTR,
    details=OBJ,
)
DOCUMENT = obj(
    ["id", "case_id", "title", "category", "content_type", "size", "sha256", "deleted"],
    id={"type": "string", "format": "uuid"},
    case_id={"type": "string", "format": "uuid"},
    title=STR,
    category=STR,
    filename=STR,
    content_type=STR,
    size=INT,
    sha256=STR,
    link_kind=NSTR,
    link_id=NSTR,
    identifies_reporter=BOOL,
    uploaded_by=STR,
    uploaded_at=INSTANT,
    deleted=BOOL,
    deleted_by=NSTR,
    deleted_at=NINSTANT,
    delete_reason=NSTR,
)
DOCUMENT_DELETION = {
    "type": "object",
    "required": ["reason"],
    "additionalProperties": False,
    "properties": {"reason": {"type": "string", "minLength": 10, "maxLength": 2000}},
}
PROVIDER = obj(
    ["id", "name", "services"],
    id={"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[a-z0-9][a-z0-9_-]*$"},
    name={"type": "string", "minLength": 1, "maxLength": 200},
    services={"type": "array", "items": STR, "minItems": 1},
    area={"type": "string", "maxLength": 200},
    contact={"type": "string", "maxLength": 300},
    languages={"type": "array", "items": STR},
    capacity={"type": ["integer", "null"], "minimum": 0, "maximum": 100_000},
    active=BOOL,
)
PROVIDER_BODY = {**PROVIDER, "additionalProperties": False}
REFERRAL = obj(
    ["id", "case_id", "person_id", "service", "provider_id", "status", "status_on"],
    id={"type": "string", "format": "uuid"},
    case_id={"type": "string", "format": "uuid"},
    person_id={"type": "string", "format": "uuid"},
    person=STR,
    service=STR,
    service_title=STR,
    provider_id=STR,
    provider=STR,
    reason=STR,
    status=STR,
    status_on={"type": "string", "format": "date"},
    sent_at=INSTANT,
    history={"type": "array", "items": OBJ},
    made_by=STR,
    final=BOOL,
)
REFERRAL_BODY = {
    "type": "object",
    "required": ["person_id", "service", "provider_id", "reason"],
    "additionalProperties": False,
    "properties": {
        "person_id": {"type": "string", "format": "uuid"},
        "service": {"type": "string", "maxLength": 64},
        "provider_id": {"type": "string", "maxLength": 100},
        "reason": {"type": "string", "minLength": 10, "maxLength": 4000},
    },
}
REFERRAL_STATUS_BODY = {
    "type": "object",
    "required": ["status"],
    "additionalProperties": False,
    "properties": {
        "status": {
            "enum": ["accepted", "declined", "scheduled", "attending", "completed", "not_engaged"]
        },
        "on": {"type": "string", "format": "date"},
        "note": {"type": "string", "maxLength": 4000},
    },
}
OPENED = obj(["id", "case_number"], id={"type": "string", "format": "uuid"}, case_number=STR)
MESSAGE_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "case_id": {"type": "string", "format": "uuid"},
        "case_number": {"type": "string", "minLength": 1, "maxLength": 64},
        "payload": {},
    },
    "oneOf": [{"required": ["case_id"]}, {"required": ["case_number"]}],
}
MESSAGE_RESULT = obj(
    ["case_id", "instance_id", "message"], case_id=STR, instance_id=STR, message=STR
)
START_BODY = {
    "type": "object",
    "required": ["case_id"],
    "additionalProperties": False,
    "properties": {
        "case_id": {"type": "string", "format": "uuid"},
        "data": {"type": "object", "description": "the process's start data, beside the case's"},
    },
}
STARTED = obj(
    ["case_id", "process_id", "instance_id", "version"],
    case_id=STR,
    process_id=STR,
    instance_id=STR,
    version={"type": "integer"},
    message={**NSTR, "description": "the message that started it, for a message start"},
)
ASSIGN_BODY = {
    "type": "object",
    "required": ["user_id"],
    "additionalProperties": False,
    "properties": {"user_id": {"type": "string", "minLength": 1, "maxLength": 200}},
}
COMMENT_BODY = {
    "type": "object",
    "required": ["text"],
    "additionalProperties": False,
    "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 8000}},
}
ANY_OBJECT = {"type": "object"}
SENSITIVITY = obj(
    ["case_id", "case_number", "sensitive"], case_id=STR, case_number=STR, sensitive=BOOL
)
GRANT = obj(
    ["case_id", "case_number", "granted_at", "expires_at", "reason"],
    case_id={"type": "string", "format": "uuid"},
    case_number=STR,
    granted_at=INSTANT,
    expires_at=INSTANT,
    reason=STR,
)
ME = obj(
    ["id", "display_name", "roles"],
    id=STR,
    display_name=STR,
    roles={"type": "array", "items": STR},
    team_id=NSTR,
    unit=NSTR,
    supervised_teams={"type": "array", "items": STR},
)
