import os

import pytest
import torch as th

# Small networks: one thread is faster and keeps the two test workers from fighting over cores.
th.set_num_threads(1)
os.environ.setdefault("SB3_NOTES_SMALL_BUDGET", "1")


@pytest.fixture(autouse=True)
def _one_thread():
    th.set_num_threads(1)
    yield
