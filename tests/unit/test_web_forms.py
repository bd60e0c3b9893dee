"""Task forms drawn from JSON Schema and read back: what a person types becomes the JSON the
engine validates, and the engine's field errors land on the fields that caused them."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from conftest import ROOT
from engine.tasks.form_schemas import field_errors
from workflows.web import forms

CHICAGO = ZoneInfo("America/Chicago")


def schema(name: str) -> dict:
    return json.loads((ROOT / "bpmn" / "forms" / f"{name}.schema.json").read_text())


def test_typed_values_become_json_of_the_schemas_types() -> None:
    form = MultiDict(
        [
            ("contact_at", "2025-03-03T14:00"),
            ("location", "school"),
            ("children_seen", "Lia\n\n Ben \n"),
            ("rights_notice_given.__present__", "1"),
            ("notes", ""),
        ]
    )

    data = forms.parse(schema("first_contact"), form, CHICAGO)

    assert data == {
        "contact_at": "2025-03-03T14:00:00-06:00",
        "location": "school",
        "children_seen": ["Lia", "Ben"],
        "rights_notice_given": False,
    }
    assert field_errors(schema("first_contact"), data) == []


def test_nested_groups_and_rows_round_trip() -> None:
    plan = schema("write_safety_plan")
    values = {"actions": [{"action": "Grandmother stays", "responsible": "Gran"}]}
    fields = forms.build(plan, values, {}, CHICAGO)
    [rows] = [f for f in fields if f.kind == "rows"]
    assert [c.name for c in rows.rows[0]][:2] == ["actions.0.action", "actions.0.responsible"]

    form = MultiDict(
        [
            ("actions", ""),
            ("actions.0.action", "Grandmother stays"),
            ("actions.0.responsible", "Gran"),
            ("actions.1.action", ""),  # the blank row a page adds is not an entry
            ("actions.1.responsible", ""),
        ]
    )
    assert forms.parse(plan, form, CHICAGO)["actions"] == values["actions"]


def test_what_is_not_a_number_reaches_the_engine_as_text_and_is_named() -> None:
    form_schema = {"type": "object", "properties": {"n": {"type": "integer", "title": "N"}}}
    data = forms.parse(form_schema, MultiDict([("n", "twelve")]), CHICAGO)
    assert data == {"n": "twelve"}
    [error] = field_errors(form_schema, data)
    shown = forms.build(form_schema, data, forms.errors_by_pointer([error.as_dict()]), CHICAGO)
    assert shown[0].errors == [forms.PLAIN_MESSAGES["type"]]


def test_instants_show_in_the_agencys_zone() -> None:
    assert forms.local_input("2025-03-03T15:15:00+00:00", CHICAGO) == "2025-03-03T09:15"


def test_errors_no_field_shows_are_listed_for_the_page() -> None:
    fields = forms.build(schema("first_contact"), {}, {}, CHICAGO)
    assert forms.unplaced(fields, {"/location": ["x"], "": ["whole form"]}) == ["whole form"]


def test_options_titled_with_one_of_show_their_titles_and_read_back_their_values() -> None:
    titled = {
        "type": "object",
        "properties": {
            "level": {
                "type": "integer",
                "oneOf": [{"const": 1, "title": "Low"}, {"const": 2, "title": "High"}],
            },
            "flags": {
                "type": "array",
                "items": {"oneOf": [{"const": "dv", "title": "Domestic violence"}]},
            },
            "open": {"type": "string", "oneOf": [{"type": "string"}]},  # not a list of options
        },
    }
    level, flags, open_text = forms.build(titled, {"level": 2}, {}, CHICAGO)

    assert (level.kind, level.options, level.value) == ("select", ["1", "2"], "2")
    assert level.labels == {"1": "Low", "2": "High"}
    assert (flags.kind, flags.labels) == ("choices", {"dv": "Domestic violence"})
    assert open_text.kind == "text"
    form = MultiDict([("level", "1"), ("flags", "dv"), ("open", "x")])
    data = forms.parse(titled, form, CHICAGO)
    assert data == {"level": 1, "flags": ["dv"], "open": "x"}
    assert field_errors(titled, data) == []
    assert forms.errors_by_pointer(
        [{"field": "/level", "validator": "oneOf", "message": "3 is not valid"}]
    ) == {"/level": ["Choose one of the options."]}
