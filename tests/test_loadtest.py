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


@pytest.mark.slow
def test_replicas_behind_nginx_fail_no_request_through_a_reindex_and_a_killed_replica(capsys):
    """make loadtest-replicas, shorter: every wait (the new generation, the replica back) is for the event."""
    from bench import loadtest_replicas

    code = loadtest_replicas.main(["--clients", "4", "--seconds", "10", "--baseline", "5", "--replicas", "2",
                                   "--wait", "300"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert " 0 failed" in out and "generations that answered: 2" in out
    assert "killed with SIGKILL after that; the supervisor started it again" in out and "generation new" in out
