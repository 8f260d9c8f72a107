"""Section labels of a document's text (the clause_extraction_agent's first step).

A heading is a line (after trimming) that is either

* numbered with an upper-case or title-case title: `5. PERFORMANCE AND SUPERVISION`,
  `10.  VACATION`, `2.1 Definitions` (PDF text often puts the number on a line of its own,
  `5.` then `PERFORMANCE AND SUPERVISION`: the two lines make one heading), or
* a line starting with Section, Article, Schedule, Appendix or Part followed by an identifier
  (`Schedule A`, `Part XV - Termination`, `APPENDIX "1" - ATTENDANT JOB DESCRIPTION`), and
  nothing after it or a separator or a capitalised title (so prose such as "Article 7 and
  has advised him" is not a heading).

Every character offset belongs to the last heading that starts at or before it; before the
first heading it belongs to `Page <n>`, the page it is on.

    index = SectionIndex.of_pages(["page one text", "page two text"])
    index.label_at(120)   # "5. PERFORMANCE AND SUPERVISION"
    index.page_at(120)    # 1
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

PAGE_SEPARATOR: Final = "\n\n"  # how pdf_reader joins pages into its `text`
MAX_HEADING_CHARS: Final = 160  # longer lines are prose, never headings

_NUMBER: Final = re.compile(r"(\d{1,3}(?:\.\d{1,3}){0,3})\.?")
_NUMBERED: Final = re.compile(r"(\d{1,3}(?:\.\d{1,3}){0,3})\.?[ \t]+(\S.*)")
_KEYWORD: Final = re.compile(
    r"(section|article|schedule|appendix|part)[ \t]+"
    r"(\d[\w.]*|[ivxlcdm]+\b|[a-z]\b|[\"'\u201c\u2018][^\"'\u201d\u2019]{1,12}[\"'\u201d\u2019])(.*)",
    re.IGNORECASE,
)
_SEPARATOR_START: Final = re.compile(r"[-\u2013\u2014:.)(,]")  # hyphen, en and em dash, ...
_SMALL_WORDS: Final = frozenset(
    {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"}
)
_MAX_TITLE_WORDS: Final = 12


def _is_title(text: str) -> bool:
    """Upper case (`CONFIDENTIALITY`), or a short title-case line (`Hours of Work`) that does
    not read as a sentence."""
    words = text.split()
    if not words or not any(char.isalpha() for char in text):
        return False
    if not any(char.islower() for char in text):
        return sum(char.isalpha() for char in text) >= 2
    if len(words) > _MAX_TITLE_WORDS or text.rstrip()[-1] in ".;,:":
        return False
    letters = [word for word in words if word[:1].isalpha()]
    return bool(letters) and all(
        word[0].isupper() or word.lower() in _SMALL_WORDS for word in letters
    )


def _keyword_heading(line: str) -> bool:
    match = _KEYWORD.match(line)
    if match is None:
        return False
    rest = match.group(3).strip()
    return not rest or _SEPARATOR_START.match(rest) is not None or _is_title(rest)


def _squeeze(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Section:
    """A labelled span `[start, end)` of the text."""

    label: str
    start: int
    end: int


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """(offset of the line, the line without its newline)."""
    at = 0
    for line in text.splitlines(keepends=True):
        yield at, line.rstrip("\r\n")
        at += len(line)


def find_headings(text: str) -> list[tuple[int, str]]:
    """(offset where the heading's first line starts, label) of every heading, in order."""
    headings: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None  # a line holding only a number: `5.`
    for offset, raw in _lines(text):
        line = raw.strip()
        if not line:
            continue
        if len(line) > MAX_HEADING_CHARS:
            pending = None
            continue
        start = offset + (len(raw) - len(raw.lstrip()))
        if pending is not None and _is_title(line) and not _NUMBER.fullmatch(line):
            headings.append((pending[0], _squeeze(f"{pending[1]} {line}")))
            pending = None
            continue
        pending = None
        number = _NUMBER.fullmatch(line)
        if number is not None:
            pending = (start, line)
            continue
        numbered = _NUMBERED.fullmatch(line)
        if (numbered is not None and _is_title(numbered.group(2))) or _keyword_heading(line):
            headings.append((start, _squeeze(line)))
    return headings


class SectionIndex:
    """Which section and page each character offset of a text belongs to."""

    __slots__ = ("_page_starts", "_section_starts", "sections", "text_length")

    def __init__(self, text: str, page_starts: Sequence[int] = (0,)) -> None:
        """`page_starts`: offset where each page begins (page 1 first; default one page)."""
        self.text_length = len(text)
        self._page_starts = list(page_starts) or [0]
        headings = find_headings(text)
        first = headings[0][0] if headings else len(text)
        starts: list[tuple[int, str]] = [
            (start, f"Page {number}")
            for number, start in enumerate(self._page_starts, start=1)
            if start < first
        ]
        starts.extend(headings)
        if not starts:  # empty text
            starts.append((0, "Page 1"))
        sections = [
            Section(
                label, start, starts[position + 1][0] if position + 1 < len(starts) else len(text)
            )
            for position, (start, label) in enumerate(starts)
        ]
        self.sections: tuple[Section, ...] = tuple(sections)
        self._section_starts = [section.start for section in self.sections]

    @classmethod
    def of_pages(cls, pages: Sequence[str], separator: str = PAGE_SEPARATOR) -> SectionIndex:
        """The index of `separator.join(pages)` (the `text` of `pdf_reader`)."""
        return cls(separator.join(pages), page_starts_of(pages, separator))

    def section_at(self, offset: int) -> Section:
        position = bisect.bisect_right(self._section_starts, offset) - 1
        return self.sections[max(position, 0)]

    def label_at(self, offset: int) -> str:
        return self.section_at(offset).label

    def page_at(self, offset: int) -> int:
        """1-based page number of the offset."""
        return max(bisect.bisect_right(self._page_starts, offset), 1)


def page_starts_of(pages: Sequence[str], separator: str = PAGE_SEPARATOR) -> list[int]:
    """Offset of each page in `separator.join(pages)`."""
    starts: list[int] = []
    at = 0
    for page in pages:
        starts.append(at)
        at += len(page) + len(separator)
    return starts or [0]
