"""The chapter notebooks are stored executed, and the table of contents lists exactly them.

nbval skips a code cell whose execution_count is null, so a notebook saved without
running would pass strict nbval unchecked; these tests close that gap. They also
make sure no chapter is left out of the book, or listed without existing.
"""

from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
PAGE_SUFFIXES = (".ipynb", ".md")
SKIPPED_DIRS = {".ipynb_checkpoints", "_build"}


def _pages(suffixes):
    found = []
    for suffix in suffixes:
        for path in CHAPTERS.rglob(f"*{suffix}"):
            if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts):
                found.append(path)
    return sorted(found)


NOTEBOOKS = _pages((".ipynb",))


def _toc_entries():
    """Every page the table of contents names (root included), as paths without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    entries = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                entries.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({key: value for key, value in toc.items() if key != "root"})
    return [str(Path(entry).with_suffix("")) if Path(entry).suffix in PAGE_SUFFIXES else entry
            for entry in entries]


def test_there_are_chapter_notebooks():
    assert NOTEBOOKS, f"no notebook found under {CHAPTERS.relative_to(ROOT)}/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_stored_executed_without_errors(path):
    nb = nbformat.read(path, as_version=4)
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        first_line = cell.source.strip().splitlines()[0]
        where = f"code cell {index} ({first_line[:60]!r})"
        if cell.get("execution_count") is None:
            problems.append(f"{where} was never executed")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"{where} has a stored error: {output.get('ename')}: {output.get('evalue')}")
    assert not problems, (
        f"{path.relative_to(ROOT)}: " + "; ".join(problems)
        + ". Re-run it with scripts/refresh-outputs and commit the result."
    )


def test_toc_lists_only_pages_that_exist():
    missing, ambiguous = [], []
    for entry in _toc_entries():
        present = [ROOT / f"{entry}{suffix}" for suffix in PAGE_SUFFIXES if (ROOT / f"{entry}{suffix}").is_file()]
        if not present:
            missing.append(entry)
        elif len(present) > 1:
            ambiguous.append(entry)
    assert not missing, f"_toc.yml lists pages that do not exist: {missing}"
    assert not ambiguous, f"_toc.yml entries that exist as both .md and .ipynb: {ambiguous}"


def test_every_chapter_page_is_in_the_toc():
    listed = set(_toc_entries())
    left_out = [
        str(path.relative_to(ROOT))
        for path in _pages(PAGE_SUFFIXES)
        if str(path.relative_to(ROOT).with_suffix("")) not in listed
    ]
    assert not left_out, f"pages under chapters/ that _toc.yml does not list (the book would skip them): {left_out}"
