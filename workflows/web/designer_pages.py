"""The designer's desk: versions and their files, a diagram opened in the bpmn-js or dmn-js
modeler (or a form or profile as JSON), checked against the whole bundle with each problem on its
element, and deployed as a new version built from the version it was opened from."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for

from engine.definitions import catalogue, deployments
from engine.definitions.bundle import bundle_from_files, kind_of
from engine.definitions.deployments import deploy_bundle
from engine.errors import InvalidDefinition, InvalidInput, NotFound, Problem
from engine.identity.access import require
from engine.instances.migration import Migration, migrate
from engine.spiff.definitions import helper_names
from engine.spiff.sandbox import objection_to
from engine.tasks.form_schemas import schema_problems, with_choices
from workflows.uploads import uploaded_files
from workflows.web import forms
from workflows.web.site import bp, engine, signed_in, who, zone

MAX_EDIT_BYTES = 5 * 1024 * 1024
MAX_EXPRESSION_CHARS = 100_000
MAX_FORM_CHARS = 500_000
# A form's choice fields (x-casework-choices) list the case's own people; the preview shows
# what the list looks like.
PREVIEW_CHOICES = {
    "children": [("child-1", "Ana (8)"), ("child-2", "Leo (5)")],
    "people": [("child-1", "Ana (child)"), ("parent-1", "Maria (parent)")],
    "allegations": [("allegation-1", "Neglect, Ana")],
}


def _starter_form(task_id: str) -> str:
    """A new form for a user task: one field to begin from, in the shape every form has."""
    title = task_id.replace("_", " ").capitalize()
    return json.dumps(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "title": title,
            "properties": {"notes": {"type": "string", "title": "Notes", "maxLength": 8000}},
            "required": [],
            "additionalProperties": False,
        },
        indent=2,
    )


@bp.get("/designer")
@signed_in
def designer() -> str:
    return _designer_page()


def _designer_page(**shown: Any) -> str:
    principal, ctx = who(), engine()
    return render_template(
        "designer.html",
        versions=catalogue.definition_versions(ctx, principal),
        running=catalogue.running_phases(ctx, principal),
        kind_of=kind_of,
        **{"migration": None, "migration_asked": None, **shown},
    )


@bp.post("/designer/upload")
@signed_in
def upload_bundle() -> Any:
    """A bundle from the designer's machine (files, or a zip), checked whole, with what it
    changes against the current version; deployed as a new version only when asked, once
    those changes were confirmed, and only when nothing is wrong with it. (The page's script
    asks for the review as JSON to confirm in place.)"""
    principal = who()
    deploy = request.form.get("action") == "deploy"
    as_json = request.form.get("format") == "json"
    try:
        bundle = bundle_from_files(uploaded_files())
        reviewed = deployments.review(engine(), principal, bundle)
        if as_json:
            return jsonify(reviewed), 200 if reviewed["valid"] else 422
        if not reviewed["valid"]:
            raise InvalidDefinition([Problem(**p) for p in reviewed["problems"]])
        # Confirmed means: these very files, against the version that is current now.
        seen = (request.form.get("reviewed_hash"), request.form.get("against_version"))
        against = reviewed["against_version"]
        confirmed = request.form.get("confirmed") == "yes" and seen == (
            bundle.content_hash,
            "" if against is None else str(against),
        )
        if not deploy or not confirmed:
            # Seen first, then deployed: without the page's script, the designer confirms
            # on this page, with the files chosen again.
            return _designer_page(upload_ok=sorted(bundle.files), review=reviewed, asked=deploy)
        deployment = deploy_bundle(engine(), principal.actor, bundle)
    except InvalidDefinition as exc:
        if as_json:
            return jsonify({"valid": False, "problems": [p.as_dict() for p in exc.problems]}), 422
        return _designer_page(upload_problems=[str(p) for p in exc.problems]), 422
    if deployment.created:
        flash(f"Deployed as version {deployment.version_id}.", "info")
    elif deployment.reactivated:
        flash(f"The bundle is version {deployment.version_id}: it is current again.", "info")
    else:
        flash(f"Nothing new: the bundle is version {deployment.version_id}.", "info")
    return redirect(url_for("web.designer"))


@bp.post("/designer/migrate")
@signed_in
def migrate_instances() -> Any:
    """Running phases moved to another version (or, first, what would move)."""
    form = request.form
    mapping = form.get("mapping", "")
    renamed: dict[str, str] = {}
    for line in mapping.splitlines():
        old, equals, new = line.partition("=")
        if line.strip() and (not equals or not old.strip() or not new.strip()):
            raise InvalidInput(f"a renamed element is old=new, one a line: {line.strip()!r}")
        if equals:
            renamed[old.strip()] = new.strip()
    try:
        asked = Migration(
            from_version=int(form.get("from_version", "")),
            to_version=int(form.get("to_version", "")),
            process_id=form.get("process_id", "").strip() or None,
            renamed=renamed,
            dry_run=form.get("action") != "move",
        )
    except ValueError:
        raise InvalidInput("choose the versions to move from and to") from None
    moved = migrate(engine(), who(), asked)
    status = 200 if all(m["moves"] for m in moved) else 422
    page = _designer_page(migration=moved, migration_asked=asked, migration_mapping=mapping)
    return page, status


@bp.post("/designer/versions/<int:version_id>/activate")
@signed_in
def activate_version(version_id: int) -> Response:
    """A rollback (or forward again): the version new cases and phases start on."""
    activated = deployments.activate_version(engine(), who(), version_id)
    flash(
        f"Version {activated['version']} is the current version: new cases and new phases "
        f"start on it (it was version {activated['previous_version']}).",
        "info",
    )
    return redirect(url_for("web.designer"))


@bp.get("/designer/versions/<int:version_id>/edit/<path:path>")
@signed_in
def edit_file(version_id: int, path: str) -> str:
    files = catalogue.version_files(engine(), who(), version_id)
    kind = kind_of(path)
    if path not in files and kind == "form":
        # A user task without a form yet: the designer starts one here, and deploys it with
        # the rest of the version's files.
        files = {**files, path: _starter_form(_task_of(path)).encode()}
    if path not in files:
        raise NotFound(f"no file {path} in version {version_id}")
    # What the BPMN modeler's properties offer: roles, processes, decisions, forms, deadlines.
    design = catalogue.design_vocabulary(engine(), who(), version_id) if kind == "bpmn" else {}
    return render_template(
        "editor.html", version_id=version_id, path=path, kind=kind, design=design,
        content=files[path].decode("utf-8", errors="replace"),
    )  # fmt: skip


@bp.post("/designer/preview-form")
@signed_in
def preview_form() -> Response:
    """A form as the designer types it, drawn as a task page draws it: the page's HTML, and
    what is wrong with the form (the checks validation makes)."""
    require(who(), "process_designer", "administrator")
    body: Any = request.get_json(silent=True)
    content = (body or {}).get("content")
    if not isinstance(content, str):
        raise InvalidInput('send {"content": the form\'s JSON}')
    if len(content) > MAX_FORM_CHARS:
        return jsonify({"html": "", "problems": [f"at most {MAX_FORM_CHARS} characters"]})
    schema, problems = schema_problems(content.encode())
    if schema is None:
        return jsonify({"html": "", "problems": problems})
    shown = with_choices(schema, PREVIEW_CHOICES)
    fields = forms.build(shown, {}, {}, zone())
    html = render_template("_form_preview.html", form=shown, fields=fields)
    return jsonify({"html": html, "problems": []})


@bp.post("/designer/check-expression")
@signed_in
def check_expression() -> Response:
    """One expression, script or timer expression as the designer types it in the modeler's
    properties, checked by the compiler validation uses: its objection, or none."""
    require(who(), "process_designer", "administrator")
    body: Any = request.get_json(silent=True)
    kind, source = (body or {}).get("kind"), (body or {}).get("source")
    if kind not in ("expression", "script", "timer") or not isinstance(source, str):
        raise InvalidInput('send {"kind": "expression" | "script" | "timer", "source": text}')
    if len(source) > MAX_EXPRESSION_CHARS:
        return jsonify({"error": f"at most {MAX_EXPRESSION_CHARS} characters"})
    return jsonify({"error": objection_to(kind, source, helper_names())})


@bp.get("/designer/versions/<int:version_id>/files/<path:path>")
@signed_in
def raw_file(version_id: int, path: str) -> Response:
    content = catalogue.definition_file(engine(), who(), version_id, path)
    return Response(content, mimetype="application/xml" if path.endswith((".bpmn", ".dmn"))
                    else "application/json")  # fmt: skip


def _edited_bundle(version_id: int) -> dict[str, bytes]:
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("content"), str):
        raise InvalidInput("send {path, content} as JSON")
    path, content = str(body.get("path", "")), body["content"].encode()
    if len(content) > MAX_EDIT_BYTES:
        raise InvalidInput("the file is too large")
    files = catalogue.version_files(engine(), who(), version_id)
    if path not in files and kind_of(path) != "form":  # a new form is one of its own
        raise NotFound(f"no file {path} in version {version_id}")
    return {**files, path: content}


def _task_of(form_path: str) -> str:
    return form_path.rsplit("/", 1)[-1].removesuffix(".schema.json")


def _problems(error: InvalidDefinition) -> Response:
    response = jsonify({"ok": False, "problems": [p.as_dict() for p in error.problems]})
    response.status_code = 422
    return response


@bp.post("/designer/versions/<int:version_id>/check")
@signed_in
def check_edit(version_id: int) -> Response:
    """The edited bundle's problems, and what it would change against the current version
    (the page shows those lines for the designer to confirm before deploying)."""
    try:
        reviewed = deployments.review(
            engine(), who(), bundle_from_files(_edited_bundle(version_id))
        )
    except InvalidDefinition as exc:
        return _problems(exc)
    response = jsonify({"ok": reviewed["valid"], **reviewed})
    response.status_code = 200 if reviewed["valid"] else 422
    return response


@bp.post("/designer/versions/<int:version_id>/deploy")
@signed_in
def deploy_edit(version_id: int) -> Response:
    principal = who()
    try:
        deployment = deploy_bundle(
            engine(), principal.actor, bundle_from_files(_edited_bundle(version_id))
        )
    except InvalidDefinition as exc:
        return _problems(exc)
    return jsonify(
        {"ok": True, "version": deployment.version_id, "created": deployment.created,
         "reactivated": deployment.reactivated, "processes": deployment.process_ids}
    )  # fmt: skip
