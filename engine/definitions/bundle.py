"""A definition bundle: the designer's files that are deployed together.

A bundle is every ``.bpmn``/``.dmn`` diagram, every ``forms/<task id>.schema.json`` form, every
``profiles/<id>.json`` jurisdiction profile, every ``reports/<name>.html`` report template and
every ``scenarios/<name>.json`` scenario of a folder (or of an upload), keyed by its path
relative to that folder. Its identity is the hash of its content, so deploying the same files
twice names the same version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from engine.errors import InvalidDefinition, Problem

BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml")
DMN_SUFFIXES = (".dmn",)
FORM_SUFFIX = ".schema.json"
MAX_FILE_BYTES = 5 * 1024 * 1024


def kind_of(path: str) -> str | None:
    """``bpmn``, ``dmn``, ``form``, ``profile``, ``report`` (a court report's template),
    ``scenario`` (a story the processes must keep telling) or None for files a bundle does not
    carry."""
    lower = path.lower()
    parts = PurePosixPath(lower).parts
    if lower.endswith(BPMN_SUFFIXES):
        return "bpmn"
    if lower.endswith(DMN_SUFFIXES):
        return "dmn"
    if lower.endswith(FORM_SUFFIX) and len(parts) >= 2 and parts[-2] == "forms":
        return "form"
    if lower.endswith(".json") and len(parts) >= 2 and parts[-2] == "profiles":
        return "profile"
    if lower.endswith(".html") and len(parts) >= 2 and parts[-2] == "reports":
        return "report"
    if lower.endswith(".json") and len(parts) >= 2 and parts[-2] == "scenarios":
        return "scenario"
    return None


@dataclass(frozen=True)
class Bundle:
    files: Mapping[str, bytes]

    @property
    def content_hash(self) -> str:
        return self.hash_of(self.files)

    def hash_of(self, paths: Iterable[str]) -> str:
        """The hash of some of the bundle's files: the same files, the same hash."""
        digest = hashlib.sha256()
        for path in sorted(set(paths)):
            digest.update(path.encode())
            digest.update(b"\0")
            digest.update(hashlib.sha256(self.files[path]).digest())
        return digest.hexdigest()

    def of_kind(self, kind: str) -> dict[str, bytes]:
        return {p: c for p, c in sorted(self.files.items()) if kind_of(p) == kind}

    def form_for(self, task_id: str) -> tuple[str, bytes] | None:
        for path, content in self.of_kind("form").items():
            if PurePosixPath(path).name == f"{task_id}{FORM_SUFFIX}":
                return path, content
        return None


def bundle_from_files(files: Mapping[str, bytes]) -> Bundle:
    """A bundle from uploaded files; paths must be relative and stay inside the bundle."""
    problems: list[Problem] = []
    kept: dict[str, bytes] = {}
    for raw_path, content in files.items():
        path = PurePosixPath(raw_path.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or not path.parts:
            problems.append(Problem(raw_path, "file paths must be relative and stay in the bundle"))
            continue
        if len(content) > MAX_FILE_BYTES:
            problems.append(Problem(raw_path, f"file is larger than {MAX_FILE_BYTES} bytes"))
            continue
        if kind_of(str(path)) is not None:
            kept[str(path)] = content
    if problems:
        raise InvalidDefinition(problems)
    if not kept:
        raise InvalidDefinition([Problem("-", "the bundle holds no .bpmn or .dmn file")])
    return Bundle(kept)


def read_bundle(paths: Iterable[str | Path]) -> Bundle:
    """Read files and folders (folders recursively) into one bundle."""
    files: dict[str, bytes] = {}
    problems: list[Problem] = []
    for given in paths:
        root = Path(given)
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                relative = path.relative_to(root).as_posix()
                if kind_of(relative) is not None:
                    files[relative] = path.read_bytes()
        elif root.is_file():
            files[root.name] = root.read_bytes()
        else:
            problems.append(Problem(str(given), "no such file or folder"))
    if problems:
        raise InvalidDefinition(problems)
    return bundle_from_files(files)
