import json
import os
import time

import pytest
import torch as th

from tests.helpers import DOCS_CHECK_DIR, DOCS_CHECK_SUMMARY

# Small networks: one thread is faster and keeps the two test workers from fighting over cores.
th.set_num_threads(1)
os.environ.setdefault("SB3_NOTES_SMALL_BUDGET", "1")


@pytest.fixture(autouse=True)
def _one_thread():
    th.set_num_threads(1)
    yield


def pytest_sessionstart(session):
    session.config._sb3_notes_started = time.time()


def pytest_terminal_summary(terminalreporter, config):
    """Print what the browser check of the docs saw, when it ran in this session (in any xdist worker)."""
    started = getattr(config, "_sb3_notes_started", None)
    if started is None or not DOCS_CHECK_SUMMARY.exists() or DOCS_CHECK_SUMMARY.stat().st_mtime < started:
        return
    seen = json.loads(DOCS_CHECK_SUMMARY.read_text())
    terminalreporter.write_line(
        f"docs browser check: {seen['pages']} pages, {seen['formulas']} formulas, {seen['images']} images, "
        f"{seen['internal links']} internal links ({seen['distinct link targets']} targets), {seen['anchors']} anchors; "
        f"screenshots in {DOCS_CHECK_DIR / '_screenshots'}"
    )
