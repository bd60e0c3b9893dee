"""Who may send a message by hand is the diagram's to say (``casework:senders`` on the
``bpmn:message``), checked by validation like everything else a designer writes."""

from __future__ import annotations

import pytest

from conftest import ROOT
from engine.definitions.bundle import Bundle, read_bundle
from engine.definitions.versions import validate
from engine.spiff.definitions import compile_bundle

SHIPPED = read_bundle([ROOT / "bpmn"])
DECLARED = b'name="court_tmc_order" casework:senders="attorney supervisor"'


def _with_senders(senders: str) -> Bundle:
    files = dict(SHIPPED.files)
    original = files["substitute_care.bpmn"]
    assert DECLARED in original
    files["substitute_care.bpmn"] = original.replace(
        DECLARED, f'name="court_tmc_order" casework:senders="{senders}"'.encode()
    )
    return Bundle(files)


def test_the_shipped_court_order_names_its_senders_and_nothing_else_does() -> None:
    compiled = compile_bundle(SHIPPED)

    assert compiled.senders("court_tmc_order") == {"attorney", "supervisor"}
    assert compiled.senders("permanency_hearing_due") == frozenset()


@pytest.mark.parametrize(
    ("senders", "complaint"),
    [
        ("attorney wizard", "unknown roles ['wizard']"),
    ],
)
def test_unknown_roles_are_refused_naming_file_and_message(senders: str, complaint: str) -> None:
    [problem] = validate(_with_senders(senders))

    assert problem.file == "substitute_care.bpmn"
    assert problem.element_id == "msg_court_tmc_order"
    assert complaint in problem.message


def test_two_files_may_not_disagree_about_one_message() -> None:
    files = dict(_with_senders("attorney").files)
    closure = files["closure.bpmn"]
    files["closure.bpmn"] = closure.replace(
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xmlns:casework="https://casework.example/schema/bpmn"',
        1,
    ).replace(
        b'name="closure_requested"/>',
        b'name="closure_requested"/>\n  <bpmn:message id="msg_court_again" '
        b'name="court_tmc_order" casework:senders="supervisor"/>',
        1,
    )

    problems = validate(Bundle(files))

    # closure.bpmn is read first: the later file is the one that disagrees.
    assert [(p.file, p.element_id) for p in problems] == [
        ("substitute_care.bpmn", "msg_court_tmc_order")
    ]
    assert "differs from another file's (supervisor)" in problems[0].message


def test_casework_commands_cannot_be_given_senders() -> None:
    files = dict(SHIPPED.files)
    files["intake.bpmn"] = (
        files["intake.bpmn"]
        .replace(
            b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
            b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            b'xmlns:casework="https://casework.example/schema/bpmn"',
            1,
        )
        .replace(
            b'name="casework.mark_sensitive"/>',
            b'name="casework.mark_sensitive" casework:senders="supervisor"/>',
        )
    )

    [problem] = validate(Bundle(files))

    assert problem.element_id == "msg_casework_mark_sensitive"
    assert "casework's own command" in problem.message
