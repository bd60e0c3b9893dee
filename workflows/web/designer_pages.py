"""The designer's desk: versions and their files, a diagram opened in the bpmn-js or dmn-js
modeler (or a form or profile as JSON), checked against the whole bundle with each problem on its
element, and deployed as a new version built from the version it was opened from."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for

from engine.definitions import catalogue, deployments
from engine.definitions.bundle import bundle_from_files, kind_of
from engine.definitions.deployments import deploy_bundle
from engine.errors import InvalidDefinition, InvalidInput, NotFound, Problem
from workflows.uploads import uploaded_files
from workflows.web.site import bp, engine, signed_in, who

MAX_EDIT_BYTES = 5 * 1024 * 1024


@bp.get("/designer")
@signed_in
def designer() -> str:
    return _designer_page()


def _designer_page(**upload: Any) -> str:
    principal, ctx = who(), engine()
    return render_template(
        "designer.html",
        versions=catalogue.definition_versions(ctx, principal),
        running=catalogue.running_phases(ctx, principal),
        kind_of=kind_of,
        **upload,
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
    try:
        bundle = bundle_from_files(uploaded_files())
        reviewed = deployments.review(engine(), principal, bundle)
        if request.form.get("format") == "json":
            return jsonify(reviewed), 200 if reviewed["valid"] else 422
        if not reviewed["valid"]:
            raise InvalidDefinition([Problem(**p) for p in reviewed["problems"]])
        if not deploy or request.form.get("confirmed") != "yes":
            # Seen first, then deployed: without the page's script, the designer confirms
            # on this page, with the files chosen again.
            return _designer_page(upload_ok=sorted(bundle.files), review=reviewed, asked=deploy)
        deployment = deploy_bundle(engine(), principal.actor, bundle)
    except InvalidDefinition as exc:
        return _designer_page(upload_problems=[str(p) for p in exc.problems]), 422
    if deployment.created:
        flash(f"Deployed as version {deployment.version_id}.", "info")
    elif deployment.reactivated:
        flash(f"The bundle is version {deployment.version_id}: it is current again.", "info")
    else:
        flash(f"Nothing new: the bundle is version {deployment.version_id}.", "info")
    return redirect(url_for("web.designer"))


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
    if path not in files:
        raise NotFound(f"no file {path} in version {version_id}")
    return render_template(
        "editor.html", version_id=version_id, path=path, kind=kind_of(path),
        content=files[path].decode("utf-8", errors="replace"),
    )  # fmt: skip


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
    if path not in files:
        raise NotFound(f"no file {path} in version {version_id}")
    return {**files, path: content}


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
         "processes": deployment.process_ids}
    )  # fmt: skip
