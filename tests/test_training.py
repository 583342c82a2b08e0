"""`make train`'s command line. An end-to-end run is not a test: mining the hard negatives embeds the whole bank
and about 3,900 questions with the untrained model first (over 10 minutes on 2 busy cores); the adapter file
and its loading are tested in test_adapter.py, the fusion in test_learned_fusion.py."""

from __future__ import annotations

import pytest

from training.__main__ import main as train_main


def test_an_unknown_stage_is_refused_with_the_valid_ones(capsys):
    with pytest.raises(SystemExit):
        train_main(["--stage", "bogus"])
    assert "invalid choice: 'bogus'" in capsys.readouterr().err
