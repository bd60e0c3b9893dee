"""The ``casework`` command as a designer and an operator use it."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from conftest import CORPORA, FIXTURES
from engine.storage.db import connect
from engine.storage.tables import AuditEvent, DefinitionVersion, OutboxEvent
from workflows.cli import main

MIWG = CORPORA / "miwg-reference" / "Reference"


def run(args: list[str], database_url: str | None = None) -> tuple[int, str, str]:
    env = {"CASEWORK_DATABASE_URL": database_url} if database_url else {}
    result = CliRunner().invoke(main, args, env=env)
    return result.exit_code, result.stdout, result.stderr


def test_validate_accepts_a_valid_bundle() -> None:
    code, out, _ = run(["validate", str(FIXTURES / "phases")])

    assert code == 0
    assert out.startswith("valid; validation's dry run reached 4 of 5 user tasks"), out


def test_validate_prints_every_problem_as_file_line_element_message() -> None:
    code, out, err = run(["validate", str(FIXTURES / "broken")])

    assert code == 1
    lines = out.strip().splitlines()
    assert "bad_expressions.bpmn:12: f3: condition: Line 1: SyntaxError" in out
    assert any(
        line.startswith("bad_expressions.bpmn:16: wait: timer expression:") for line in lines
    )
    assert any(line.startswith("bad_expressions.bpmn:5: escape: script:") for line in lines)
    assert any(
        line.startswith("forms/escape.schema.json:: escape: not a valid JSON Schema")
        for line in lines
    )
    assert "nothing was deployed" in err
    assert "Traceback" not in out + err


def test_validate_json_is_machine_readable() -> None:
    code, out, _ = run(["validate", "--json", str(FIXTURES / "broken")])

    report = json.loads(out)
    assert code == 1
    assert report["valid"] is False
    flows = [p for p in report["problems"] if p["element_id"] == "f3"]
    assert [(p["file"], p["line"]) for p in flows] == [("bad_expressions.bpmn", 12)]
    assert flows[0]["message"].startswith("condition: Line 1: SyntaxError")


def test_validate_reports_a_missing_path_cleanly(tmp_path: Path) -> None:
    code, out, _ = run(["validate", str(tmp_path / "nowhere.bpmn")])

    assert code == 1
    assert "no such file or folder" in out


@pytest.mark.skipif(not MIWG.is_dir(), reason="the shared corpora are not beside this checkout")
@pytest.mark.parametrize("path", sorted(MIWG.glob("*.bpmn")) if MIWG.is_dir() else [], ids=str)
def test_validate_on_the_miwg_reference_models_never_crashes(path: Path) -> None:
    code, out, err = run(["validate", str(path)])

    assert code in (0, 1)
    assert "Traceback" not in out + err
    for line in out.strip().splitlines() if code else []:
        file, line_no, element, message = line.split(":", 3)
        assert file == path.name
        assert line_no == "" or line_no.isdigit()
        assert element.strip() and message.strip()


def test_deploy_twice_is_one_version(database_url: str) -> None:
    first = run(["deploy", "--json", str(FIXTURES / "phases")], database_url)
    second = run(["deploy", "--json", str(FIXTURES / "phases")], database_url)

    assert first[0] == second[0] == 0
    one, two = json.loads(first[1]), json.loads(second[1])
    assert one["version"] == two["version"]
    assert (one["created"], two["created"]) == (True, False)
    assert one["processes"] == ["intake", "investigation"]


def test_activate_rolls_back_and_the_same_files_again_roll_forward(
    database_url: str, tmp_path: Path
) -> None:
    first = json.loads(run(["deploy", "--json", str(FIXTURES / "phases")], database_url)[1])
    changed = tmp_path / "phases"
    shutil.copytree(FIXTURES / "phases", changed)
    for path in changed.glob("*.bpmn"):
        edited = path.read_bytes().replace(b"</bpmn:definitions>", b"<!-- 2 --></bpmn:definitions>")
        path.write_bytes(edited)
    second = json.loads(run(["deploy", "--json", str(changed)], database_url)[1])
    assert second["version"] != first["version"]

    code, out, _ = run(["activate", str(first["version"])], database_url)
    assert code == 0, out
    assert f"version {first['version']} " in out and f"was version {second['version']}" in out
    again = json.loads(run(["deploy", "--json", str(changed)], database_url)[1])
    assert (again["version"], again["created"], again["reactivated"]) == (
        second["version"], False, True
    )  # fmt: skip
    code, _, err = run(["activate", "999"], database_url)
    assert code == 1 and "no deployed version 999" in err


def test_migrate_says_what_it_did_and_refuses_a_bad_mapping(
    database_url: str, tmp_path: Path
) -> None:
    first = json.loads(run(["deploy", "--json", str(FIXTURES / "phases")], database_url)[1])
    changed = tmp_path / "phases"
    shutil.copytree(FIXTURES / "phases", changed)
    for path in changed.glob("*.bpmn"):
        path.write_bytes(path.read_bytes() + b"<!-- 2 -->")
    second = json.loads(run(["deploy", "--json", str(changed)], database_url)[1])
    versions = ["--from", str(first["version"]), "--to", str(second["version"])]

    code, out, err = run(["migrate", *versions, "--dry-run", "--json"], database_url)
    assert (code, json.loads(out)) == (0, [])  # nothing runs on the first version
    bad = tmp_path / "mapping.json"
    bad.write_text('["first_contact"]')
    code, _, err = run(["migrate", *versions, "--mapping", str(bad)], database_url)
    assert code == 2 and "old element id -> new element id" in err
    code, _, err = run(["migrate", "--from", "1", "--to", "1"], database_url)
    assert code == 1 and "already" in err


def test_a_bad_bundle_deploys_nothing(database_url: str) -> None:
    code, out, _ = run(["deploy", str(FIXTURES / "phases"), str(FIXTURES / "broken")], database_url)

    assert code == 1
    assert "f3: condition" in out
    db = connect(database_url)
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(DefinitionVersion)) == 0
    db.dispose()


def test_simulate_prints_each_step_and_where_it_stopped(tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(
        json.dumps(
            {
                "record_report": {
                    "received_at": "2025-03-07T22:00:00Z",
                    "severity": "moderate",
                    "youngest_age": 9,
                }
            }
        )
    )

    code, out, _ = run(
        [
            "simulate",
            str(FIXTURES / "phases"),
            "--process",
            "intake",
            "--answers",
            str(answers),
            "--start",
            "2025-03-07T16:00:00-06:00",
            "--advance",
            "P4D",
        ]
    )

    assert code == 0, out
    assert "task     record_report 'Record hotline report' [intake_screener] completed" in out
    assert "message  investigation_requested starts investigation" in out
    # P2: 72 hours after Friday 22:00 UTC is Monday 22:00 UTC (the weekend counts).
    assert "contact_overdue 'Response window passed' fired (due 2025-03-10T22:00:00+00:00)" in out
    assert (
        "investigation: waiting for task review_overdue 'Review overdue first contact' [supervisor]"
        in out
    )


def test_simulate_refuses_an_answer_that_does_not_fit_the_form(tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"record_report": {"severity": "awful"}}))

    code, _, err = run(
        ["simulate", str(FIXTURES / "phases"), "--process", "intake", "--answers", str(answers)]
    )

    assert code == 1
    assert "does not fit its form" in err and "/severity" in err


def test_simulate_reports_a_script_error_with_exit_1() -> None:
    code, out, err = run(["simulate", str(FIXTURES / "script_error"), "--process", "divide"])

    assert code == 1
    assert err.startswith("error: compute (line 2): ZeroDivisionError")
    assert "Traceback" not in out + err


def test_retention_says_what_is_due_and_does_it_only_when_asked(database_url: str) -> None:
    db = connect(database_url)
    with db.writer() as session:
        # Published two months ago, with no subscriber: due after the 30 days kept by default.
        long_ago = datetime.now(UTC) - timedelta(days=60)
        session.add(OutboxEvent(id=uuid.uuid4(), topic="case.opened", occurred_at=long_ago,
                                payload={}))  # fmt: skip
        session.commit()

    code, out, _ = run(["retention"], database_url)
    assert code == 0 and "outbox events to prune: 1" in out and "nothing was changed" in out
    code, out, _ = run(["retention", "--json"], database_url)
    assert (code, json.loads(out)["outbox_events_to_prune"]) == (0, 1)

    code, out, _ = run(["retention", "--perform", "--json"], database_url)

    done = json.loads(out)
    assert (code, done["performed"], done["outbox_events_pruned"]) == (0, True, 1)
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0
        (audited,) = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.outbox_pruned")
        ).all()
    db.dispose()
    assert (audited.actor, audited.details["events"]) == ("system", 1)
    assert json.loads(run(["retention", "--json"], database_url)[1])["outbox_events_to_prune"] == 0
