"""Section labels of a document (clause extraction's first step): headings, offsets, pages."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from moderately.engine.blocks.pdf_reader import read_pdf
from moderately.engine.sections import SectionIndex, find_headings, page_starts_of

EXAMPLES = Path(__file__).parents[3] / "examples/data"
EXAMPLE_PDF = EXAMPLES / "04-legal-document-extraction/employment_agreement.pdf"


def labels(text: str) -> list[str]:
    return [label for _, label in find_headings(text)]


@pytest.mark.parametrize(
    ("line", "label"),
    [
        ("5. PERFORMANCE AND SUPERVISION", "5. PERFORMANCE AND SUPERVISION"),
        ("10.  VACATION", "10. VACATION"),
        ("  2.1 Definitions", "2.1 Definitions"),
        ("7 Hours of Work", "7 Hours of Work"),
        (
            "Section 67.2 - Prohibition on Non-Competition",
            "Section 67.2 - Prohibition on Non-Competition",
        ),
        ("Article IV", "Article IV"),
        ("Schedule A", "Schedule A"),
        ('APPENDIX "1" - ATTENDANT JOB DESCRIPTION', 'APPENDIX "1" - ATTENDANT JOB DESCRIPTION'),
        ("Part XV: Termination and Severance", "Part XV: Termination and Severance"),
        ("PART 2 GENERAL PROVISIONS", "PART 2 GENERAL PROVISIONS"),
    ],
)
def test_heading_lines(line: str, label: str) -> None:
    assert labels(f"intro text\n{line}\nbody of the section.\n") == [label]


@pytest.mark.parametrize(
    "line",
    [
        "3.2  Outside of regular hours of service, Special Arrangements may be",
        "Article 7 and has advised him to seek independent legal advice prior to executing",
        "Part of the wages shall be withheld.",
        "Section 5 of the Act applies to this agreement.",
        "1. Willingness to perform personal and household tasks.",
        "3.5  Deductions and Contributions:",
        "a. the Employer",
        "12345",
        "Sections are numbered",
        "2. " + "WORD " * 60,  # longer than any heading
    ],
)
def test_prose_lines_are_not_headings(line: str) -> None:
    assert labels(f"{line}\nmore text.\n") == []


def test_number_on_its_own_line_joins_the_title_below() -> None:
    text = "Preamble.\n5. \nPERFORMANCE AND SUPERVISION \n5.1 \nThe Employee shall follow.\n"
    assert find_headings(text) == [(10, "5. PERFORMANCE AND SUPERVISION")]


def test_a_list_of_numbers_is_not_a_heading() -> None:
    assert labels("Requirements: \n1. \n2. \n3. \nWillingness to perform tasks.\n") == []


def test_offsets_belong_to_the_last_heading_and_pages_before_the_first() -> None:
    pages = ["Cover page text", "More preamble\n1. TERM\nThe term is one year.", "2. PAY\nWages."]
    index = SectionIndex.of_pages(pages)
    text = "\n\n".join(pages)
    assert page_starts_of(pages) == [0, 17, 17 + len(pages[1]) + 2]
    assert index.label_at(0) == "Page 1"
    assert index.label_at(text.index("preamble")) == "Page 2"
    assert index.label_at(text.index("1. TERM")) == "1. TERM"
    assert index.label_at(text.index("one year")) == "1. TERM"
    assert index.label_at(text.index("Wages")) == "2. PAY"
    assert index.label_at(len(text) - 1) == "2. PAY"
    assert index.page_at(text.index("one year")) == 2
    assert index.page_at(text.index("Wages")) == 3
    # the sections cover the text without gaps
    spans = [(section.start, section.end) for section in index.sections]
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(left[1] == right[0] for left, right in itertools.pairwise(spans))


def test_text_starting_with_a_heading_has_no_page_section() -> None:
    index = SectionIndex("ARTICLE 1 - DEFINITIONS\nWords.")
    assert [section.label for section in index.sections] == ["ARTICLE 1 - DEFINITIONS"]


def test_empty_text() -> None:
    index = SectionIndex("")
    assert index.label_at(0) == "Page 1"
    assert index.page_at(0) == 1


def test_example_employment_agreement() -> None:
    pages, _ = read_pdf(EXAMPLE_PDF.read_bytes())
    index = SectionIndex.of_pages(pages)
    text = "\n\n".join(pages)
    found = [section.label for section in index.sections]
    assert found[0] == "Page 1"
    assert "5. PERFORMANCE AND SUPERVISION" in found
    assert "10. VACATION" in found
    assert any(label.startswith("APPENDIX") for label in found)
    offset = text.index("exercise reasonable care, skill, and diligence")
    assert index.label_at(offset) == "5. PERFORMANCE AND SUPERVISION"
    assert index.page_at(offset) == 3
    offset = text.index("Mobility assistance")
    assert index.label_at(offset).startswith("APPENDIX")
