"""Write bpmn/ (diagrams, decision tables, forms, the us-tx profile):

.venv/bin/python -m tools.bpmn_author [--out bpmn]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tools.bpmn_author import cps, forms, lifecycle, profile, tables


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="bpmn")
    out = Path(parser.parse_args().out)
    (out / "forms").mkdir(parents=True, exist_ok=True)
    (out / "profiles").mkdir(parents=True, exist_ok=True)
    for build in cps.ALL:
        process = build()
        (out / f"{process.id}.bpmn").write_text(process.to_xml())
    (out / "lifecycle.bpmn").write_text(lifecycle.lifecycle())
    for name, build_table in tables.ALL.items():
        (out / f"{name}.dmn").write_text(build_table())
    for task_id, schema in forms.FORMS.items():
        (out / "forms" / f"{task_id}.schema.json").write_text(json.dumps(schema, indent=2) + "\n")
    (out / "profiles" / "us-tx.json").write_text(json.dumps(profile.US_TX, indent=2) + "\n")


main()
