"""Questions as they are typed in a hurry: misspelt copies of the bank's training questions.

The editors' and passage questions are written with care; practitioners type on phones, on keyboards without
æøå, and split or misspell long compounds. The untrained model gains little from training on clean questions
where a question is misspelt, so the adapter's second epoch sees a share of the bank's questions with one or
two mistakes of the kinds any typist makes (Damerau's four: a letter left out, one added, one swapped with its
neighbour, one replaced by a neighbouring key), plus two that Norwegian typing adds: æøå written without the
Norwegian keyboard, and a compound split in two. Drawn from a seeded generator, never from any suite.
"""

from __future__ import annotations

import random
import re

from search_api.spelling import RESTORE

ROWS = ("qwertyuiopå", "asdfghjkløæ", "zxcvbnm")
NEIGHBOURS = {c: row[max(0, i - 1):i] + row[i + 1:i + 2] for row in ROWS for i, c in enumerate(row)}
# how æøå come out where the keyboard lacks them — (the vowel alone, the two-letter form) — from the table the
# «mente du» correction restores them by, so the two cannot drift apart
FOLDED = {letter: (min(forms, key=len), max(forms, key=len))
          for letter in "æøå" for forms in [[plain for plain, x in RESTORE if x == letter]]}
_WORD = re.compile(r"[^\W\d_]{4,}")  # a word of four letters or more, capitalised or not


def misspell(question: str, rng: random.Random) -> str:
    """The question with one or two typing mistakes, sometimes also lower case and without its question mark; as
    written when there is nothing to misspell (no æøå and no word of four letters or more)."""
    text = question
    if rng.random() < 0.5:
        text = text.lower().rstrip(" ?")
    mistakes = 1 if rng.random() < 0.6 else 2
    for _ in range(20):
        if mistakes == 0:
            break
        changed = _one_mistake(text, rng)
        if changed != text:
            text, mistakes = changed, mistakes - 1
    return text


def _one_mistake(text: str, rng: random.Random) -> str:
    if re.search("[æøå]", text) and rng.random() < 0.3:  # the whole question typed without æøå
        vowel = rng.random() < 0.7
        return re.sub("[æøå]", lambda m: FOLDED[m.group()][0 if vowel else 1], text)
    if not _WORD.search(text):  # nothing else to misspell
        return text
    m = rng.choice(list(_WORD.finditer(text)))
    w = m.group()
    kind = rng.choice(("drop", "double", "swap", "key", "split"))
    i = rng.randrange(1, len(w))  # the first letter is rarely the mistake
    if kind == "drop":
        new = w[:i] + w[i + 1:]
    elif kind == "double":  # a letter typed twice, or a doubled one typed once
        new = w[:i] + w[i + 1:] if w[i] == w[i - 1] else w[:i] + w[i] + w[i:]
    elif kind == "swap":
        i = min(i, len(w) - 2)
        new = w[:i] + w[i + 1] + w[i] + w[i + 2:]
    elif kind == "key":
        key = rng.choice(NEIGHBOURS.get(w[i].lower(), w[i]))
        new = w[:i] + (key.upper() if w[i].isupper() else key) + w[i + 1:]
    else:  # a compound written in two («selvmords tanker»); short words are left for another mistake
        new = w[:(cut := rng.randrange(4, len(w) - 3))] + " " + w[cut:] if len(w) >= 10 else w
    return text[:m.start()] + new + text[m.end():]
