"""A short load test in CI: concurrent clients, a re-index swapped in midway, zero failed requests.

The load lasts until the new generation has answered (bounded), so a busy machine makes it longer, not red.
"""

import pytest

from bench import loadtest


@pytest.mark.slow
def test_reindex_under_load_fails_no_request(capsys):
    code = loadtest.main(["--clients", "3", "--seconds", "8"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert " 0 failed" in out and "the new generation answered" in out and "generations that answered: 2" in out
