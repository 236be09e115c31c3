"""Write the API reference pages to ``docs/api/``, or check that the directory already holds them.

Gathers what ``chargeops.crdgen.docs`` needs from the repository (the text of conditions.py, the objects in
``examples/``) and compares or writes the result. Called by ``chargeops docs`` and by the test that fails
when ``docs/api/`` drifts from the API types, as ``crds/`` does.
"""

import inspect
import re
from collections.abc import Sequence
from pathlib import Path

import yaml

from chargeops.api import v1alpha1
from chargeops.crdgen import docs, reasons
from chargeops.crdgen.errors import StaleDocsError

DOCS_DIR = Path("docs/api")
"""Where the pages live, relative to the repository root."""

EXAMPLES_DIR = Path("examples")
"""Where the example objects come from, relative to the repository root."""

INDEX = "README.md"

_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)


def condition_sections() -> list[reasons.Section]:
    """The sections of conditions.py, checked to hold every type and reason the module declares."""
    module = v1alpha1.conditions
    kinds = [kind.names.kind for kind in v1alpha1.KINDS]
    found = reasons.sections(inspect.getsource(module), kinds)
    declared = {name: value for name, value in vars(module).items() if name.isupper() and isinstance(value, str)}
    reasons.check_complete(found, declared)
    return found


def examples(directory: Path) -> dict[str, list[docs.Example]]:
    """Kind name to its objects in ``directory``'s YAML files, in file order; other documents are skipped."""
    found: dict[str, list[docs.Example]] = {}
    for path in sorted(directory.glob("*.yaml")):
        for text in _SEPARATOR.split(path.read_text()):
            document = yaml.safe_load(text)
            if isinstance(document, dict) and document.get("apiVersion") == v1alpha1.API_VERSION:
                found.setdefault(str(document.get("kind")), []).append(docs.Example(path.name, text))
    return found


def rendered(examples_dir: Path = EXAMPLES_DIR) -> dict[str, str]:
    """File name to content for every page and the index."""
    sections = condition_sections()
    by_kind = examples(examples_dir)
    pages = {
        docs.file_name(kind): docs.page(
            kind,
            conditions=reasons.for_kind(sections, kind.names.kind),
            examples=by_kind.get(kind.names.kind, []),
        )
        for kind in v1alpha1.KINDS
    }
    return {INDEX: docs.index(v1alpha1.KINDS), **pages}


def write(directory: Path, *, examples_dir: Path = EXAMPLES_DIR) -> list[Path]:
    """Write every page into ``directory`` and remove generated pages no kind produces any more."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = rendered(examples_dir)
    for orphan in _generated_files(directory):
        if orphan.name not in wanted:
            orphan.unlink()
    written = []
    for name, content in wanted.items():
        path = directory / name
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
        written.append(path)
    return written


def stale(directory: Path, *, examples_dir: Path = EXAMPLES_DIR) -> Sequence[str]:
    """Names of the pages in ``directory`` that are missing, different or no longer generated."""
    wanted = rendered(examples_dir)
    problems = [name for name, content in wanted.items() if _read(directory / name) != content]
    problems += [p.name for p in _generated_files(directory) if p.name not in wanted]
    return sorted(problems)


def check(directory: Path, *, examples_dir: Path = EXAMPLES_DIR) -> None:
    """Raise StaleDocsError unless ``directory`` holds exactly the generated pages."""
    problems = stale(directory, examples_dir=examples_dir)
    if problems:
        raise StaleDocsError(problems)


def _generated_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.md") if p.read_text().startswith(docs.HEADER))


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None
