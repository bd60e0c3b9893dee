"""What a deploy changes, as the designer reads it before confirming: a renamed task, an edited
gateway condition, a decision rule's cells before and after, a form's new field, a profile's
changed entry; a shape moved on the diagram is not a change, and the same files change
nothing."""

from __future__ import annotations

import json
from pathlib import Path

from engine.definitions.bundle import Bundle, read_bundle
from engine.definitions.changes import changes

ROOT = Path(__file__).resolve().parents[2]


def shipped() -> dict[str, bytes]:
    return dict(read_bundle([ROOT / "bpmn"]).files)


def edited(files: dict[str, bytes], path: str, old: bytes, new: bytes) -> None:
    assert old in files[path], (path, old)
    files[path] = files[path].replace(old, new, 1)


def test_the_changes_a_designer_made_are_listed_where_they_are() -> None:
    files = shipped()
    edited(files, "intake.bpmn", b'name="Record hotline report"', b'name="Record the call"')
    edited(files, "intake.bpmn", b">supervisor_approval == True<", b">supervisor_approval<")
    edited(files, "intake.bpmn", b'<dc:Bounds x="300" y="80"', b'<dc:Bounds x="320" y="90"')
    edited(files, "priority.dmn", b'<inputEntry id="priority_r1_i0"><text>True</text>',
           b'<inputEntry id="priority_r1_i0"><text>False</text>')  # fmt: skip
    form = json.loads(files["forms/prepare_court_report.schema.json"])
    form["properties"]["hearing_on"] = {"type": "string", "format": "date"}
    files["forms/prepare_court_report.schema.json"] = json.dumps(form).encode()
    profile = json.loads(files["profiles/us-tx.json"])
    profile["data"]["referral_answer_days"] = 5
    files["profiles/us-tx.json"] = json.dumps(profile).encode()

    found = changes(read_bundle([ROOT / "bpmn"]), Bundle(files))

    assert found["unchanged"] is False
    assert found["files"]["added"] == found["files"]["removed"] == []
    [intake] = [p for p in found["processes"] if p["process_id"] == "intake"]
    changed = {e["id"]: e["what"] for e in intake["elements"]["changed"]}
    assert changed["record_report"] == "renamed from “Record hotline report”"
    flows = [i for i, what in changed.items() if i.startswith("flow")]
    assert len(flows) == 1 and "definition changed" in changed[flows[0]]
    assert set(changed) == {"record_report", flows[0]}  # the moved shape is no change
    assert [p["process_id"] for p in found["processes"]] == ["intake"]
    [priority] = found["decisions"]
    assert priority["table"] is False  # only a cell changed
    [rule] = priority["rules"]["changed"]
    assert (rule["id"], rule["row"]) == ("priority_r1", 1)
    assert (rule["before"][0], rule["after"][0]) == ("True", "False")
    [court_form] = found["forms"]
    assert court_form["sections"]["fields"]["added"] == ["hearing_on"]
    [us_tx] = found["profiles"]
    assert us_tx["sections"] == {
        "data": {"added": [], "removed": [], "changed": ["referral_answer_days"]}
    }


def test_the_same_files_change_nothing_and_a_first_deploy_adds_everything() -> None:
    bundle = read_bundle([ROOT / "bpmn"])
    same = changes(bundle, bundle)
    assert same["unchanged"] is True
    assert same["processes"] == same["decisions"] == same["forms"] == same["profiles"] == []

    first = changes(None, bundle)
    assert sorted(first["files"]["added"]) == sorted(bundle.files)
    assert {p["status"] for p in first["processes"]} == {"added"}
