"""The page "From the notes to the code" (docs/notes-to-code.md): its snippets run, three lines each, in the notes' order."""

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "notes-to-code.md"
SNIPPETS = re.findall(r"^```python\n(.*?)^```", PAGE.read_text(), re.S | re.M)


def test_the_page_walks_the_notes_in_order():
    sections = re.findall(r"^## §(\d)", PAGE.read_text(), re.M)
    assert sections == ["2", "3", "4", "5"]


def test_every_snippet_is_three_lines():
    assert len(SNIPPETS) >= 4
    assert [len(s.strip().splitlines()) for s in SNIPPETS] == [3] * len(SNIPPETS)


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.splitlines()[-1][:40] for s in SNIPPETS])
def test_snippet_runs(snippet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing a snippet writes lands in the repository
    exec(compile(snippet, str(PAGE), "exec"), {"__name__": "__snippet__"})
