"""A webinar or course document promises only what exists (`indexer/promises.py`, part of `make check-corpus`)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

from indexer.documents import Document
from indexer.promises import promise_problems
from indexer.settings import ROOT

WEBINAR = """---
id: webinar-prove
title: "Webinar: samtalen med eleven"
themes: [barnesamtalen]
content_type: webinar
audience: [sosialfaglig, laerer]
publisher: SoVei kunnskapsbank
source_url: https://www.udir.no/
published: 2026-11-27
language: nb
sources:
  - title: "Udir"
    url: https://www.udir.no/
last_reviewed: 2026-11-27
questions:
  - "Hvordan kan vi se et opptak av webinaret?"
---
Webinaret tilbys som opptak, så dere kan se det når det passer for personalet på skolen.

## Plan for økta

Del personalet i grupper og snakk om en samtale som gikk godt. Skriv ned hva som hjalp eleven å fortelle.
"""


def doc(body: str, content_type: str = "webinar", title: str = "Webinar", questions=()) -> Document:
    return Document(id="x", title=title, themes=("barnesamtalen",), content_type=content_type, audience=("laerer",),
                    publisher="SoVei kunnskapsbank", source_url="https://x.no", published=date(2026, 1, 1),
                    language="nb", sources=(), last_reviewed=date(2026, 1, 1), path="corpus/x.md", kind="markdown",
                    body=body, questions=tuple(questions))


def test_a_recording_or_a_scheduled_course_without_a_url_is_a_problem():
    problems = promise_problems(doc("Webinaret tilbys som opptak.\n\nPåmelding skjer via rektor.",
                                    questions=["Hvordan kan vi se et opptak?"]))
    assert len(problems) == 3
    assert problems[0].startswith("corpus/x.md: field 'questions[0]' claims a recording («opptak» in")
    assert "field 'body' claims a recording («opptak»" in problems[1]
    assert "field 'body' claims a scheduled course («Påmelding»" in problems[2]
    assert problems[1].endswith("but gives no URL for it; describe what exists (a plan the school can run, or a "
                                "planned webinar), or add the address")
    assert promise_problems(doc("Neste kurs 12. mars 2027 kl. 14 på Teams.", content_type="kursmodul"))


def test_what_exists_or_is_denied_or_has_its_address_is_not_a_problem():
    assert promise_problems(doc("Det finnes ikke noe opptak av webinaret. Skolen kan holde det selv.")) == []
    assert promise_problems(doc("Opptaket ligger på https://example.no/opptak for alle ansatte.")) == []
    assert promise_problems(doc("Webinaret tilbys som opptak.", content_type="veileder")) == []


def test_check_corpus_fails_on_a_sample_webinar_that_promises_a_recording(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "docs").mkdir(parents=True)
    (corpus / "themes.yml").write_text((ROOT / "corpus" / "themes.yml").read_text(encoding="utf-8"), encoding="utf-8")
    (corpus / "docs" / "webinar-prove.md").write_text(WEBINAR, encoding="utf-8")
    env = {**os.environ, "SOVEI_CORPUS_DIRS": str(corpus), "SOVEI_LAW_DIRS": ""}
    r = subprocess.run([sys.executable, "-m", "indexer.corpus_check"], capture_output=True, text=True, env=env,
                       cwd=ROOT)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "corpus/docs/webinar-prove.md: field 'questions[0]' claims a recording («opptak»" in r.stderr
    assert "corpus/docs/webinar-prove.md: field 'body' claims a recording («opptak»" in r.stderr
    (corpus / "docs" / "webinar-prove.md").write_text(
        WEBINAR.replace("Webinaret tilbys som opptak, så dere kan se det når det passer for personalet på skolen.",
                        "Webinaret er en plan skolen kan gjennomføre selv; det finnes ikke noe opptak.")
        .replace("Hvordan kan vi se et opptak av webinaret?", "Hvordan kan vi holde webinaret selv?"),
        encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "indexer.corpus_check"], capture_output=True, text=True, env=env,
                       cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "corpus OK" in r.stdout
