"""Where a quoted excerpt occurs in a document, comparing whitespace-normalised text
(the clause_extraction_agent drops an excerpt the document does not contain).

The normalised document is its whitespace-separated words joined by single spaces; two arrays
(8 bytes per word each) map positions back to the original text, so a found excerpt is
returned as the document's own span, with its original line breaks.

    doc = NormalisedText("5.1 The Employee\\nshall follow")
    doc.locate("Employee shall  follow")   # (4, 29): the span in the original text
    doc.locate("Employee must follow")     # None
"""

from __future__ import annotations

import bisect
import re
from array import array
from typing import Final

_WORD: Final = re.compile(r"\S+")


def normalise(text: str) -> str:
    return " ".join(text.split())


class NormalisedText:
    __slots__ = ("_normal_starts", "_original_starts", "normal", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        normal_starts = array("q")
        original_starts = array("q")
        words: list[str] = []
        at = 0
        for match in _WORD.finditer(text):
            normal_starts.append(at)
            original_starts.append(match.start())
            words.append(match.group())
            at += len(match.group()) + 1
        self.normal = " ".join(words)
        self._normal_starts = normal_starts
        self._original_starts = original_starts

    def _original(self, position: int) -> int:
        """Original offset of a normalised position that is inside a word."""
        word = bisect.bisect_right(self._normal_starts, position) - 1
        return self._original_starts[word] + (position - self._normal_starts[word])

    def locate(self, excerpt: str) -> tuple[int, int] | None:
        """`[start, end)` in the original text of the excerpt's first occurrence, or None when
        the document does not contain it."""
        needle = normalise(excerpt)
        if not needle:
            return None
        found = self.normal.find(needle)
        if found < 0:
            return None
        return self._original(found), self._original(found + len(needle) - 1) + 1
