"""text_splitter: separators, boundaries, overlap, offsets, list inputs."""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import run_block

from moderately.engine import BlockError
from moderately.engine.blocks.text_splitter import Splitter

pytestmark = pytest.mark.anyio

DEFAULT = ["\n\n", "\n", " ", ""]


def split(text: str, size: int, overlap: int = 0, seps: list[str] | None = None) -> list[str]:
    return Splitter(size, overlap, seps or DEFAULT).split(text)


def test_short_text_is_one_chunk() -> None:
    assert split("hello world", 100) == ["hello world"]
    assert split("", 10) == []
    assert split("   \n\n  ", 10) == []


def test_exact_boundary() -> None:
    assert split("abcde fghij", 11) == ["abcde fghij"]
    assert split("abcde fghij", 10) == ["abcde", "fghij"]


def test_paragraphs_first_then_lines_then_words() -> None:
    text = "para one line\npara one more\n\npara two"
    assert split(text, 30) == ["para one line\npara one more", "para two"]
    assert split(text, 14) == ["para one line", "para one more", "para two"]
    assert split(text, 9) == ["para one", "line", "para one", "more", "para two"]


def test_overlap_repeats_trailing_pieces() -> None:
    assert split("a b c d e f g", 5, 2) == ["a b c", "c d e", "e f g"]
    assert split("one two three four five", 9, 4) == ["one two", "two three", "four five"]


def test_hard_slices_without_separators() -> None:
    assert split("x" * 25, 10, 0, ["\n"]) == ["x" * 10, "x" * 10, "x" * 5]
    assert split("abcdefghij", 4, 0, [""]) == ["abcd", "efgh", "ij"]


def test_long_word_split_per_character_with_overlap() -> None:
    chunks = split("aaaaaaaaaa bb", 4, 1)
    assert chunks[0] == "aaaa"
    assert all(len(chunk) <= 4 for chunk in chunks)
    assert chunks[-1] == "bb"


def test_chunks_never_exceed_size_and_cover_the_text() -> None:
    words = [("w" * (i % 7 + 1)) for i in range(300)]
    text = " ".join(words)
    for size, overlap in ((20, 0), (20, 5), (50, 49), (7, 3)):
        chunks = split(text, size, overlap)
        assert all(0 < len(chunk) <= size for chunk in chunks)
        assert "".join(chunks).replace(" ", "").count("w") >= text.count("w")


async def test_block_outputs_details_with_offsets() -> None:
    text = "alpha beta\n\ngamma delta\n\nalpha beta"
    outputs = await run_block(
        "text_splitter", {"chunk_size": 11, "chunk_overlap": 0}, {"text": text}
    )
    assert outputs["chunks"] == ["alpha beta", "gamma delta", "alpha beta"]
    details = outputs["chunk_details"]
    assert [(d["start"], d["end"]) for d in details] == [(0, 10), (12, 23), (25, 35)]
    for detail in details:
        assert text[detail["start"] : detail["end"]] == detail["text"]
        assert detail["source_index"] == 0 and "page" not in detail
    assert [d["index"] for d in details] == [0, 1, 2]


async def test_list_inputs_and_pages() -> None:
    pages = [{"page_number": 1, "text": "one two"}, {"page_number": 2, "text": "three"}]
    outputs = await run_block(
        "text_splitter", {"chunk_size": 4, "chunk_overlap": 0}, {"text": pages}
    )
    assert outputs["chunks"] == ["one", "two", "thre", "e"]
    assert [(d["source_index"], d["page"]) for d in outputs["chunk_details"]] == [
        (0, 1),
        (0, 1),
        (1, 2),
        (1, 2),
    ]
    strings = await run_block("text_splitter", {}, {"text": ["a", "b"]})
    assert strings["chunks"] == ["a", "b"]


async def test_defaults_and_custom_separators() -> None:
    text = "x" * 1500
    outputs = await run_block("text_splitter", {}, {"text": text})
    assert [len(chunk) for chunk in outputs["chunks"]] == [1000, 700]  # 200 overlap
    assert [d["start"] for d in outputs["chunk_details"]] == [0, 800]
    outputs = await run_block(
        "text_splitter",
        {"chunk_size": 5, "chunk_overlap": 0, "separators": ["|"]},
        {"text": "ab|cd|efghijk"},
    )
    assert outputs["chunks"] == ["ab|cd", "efghi", "jk"]


@pytest.mark.parametrize("value", [5, None, [1], [{"content": "x"}]])
async def test_invalid_input(value: Any) -> None:
    with pytest.raises(BlockError) as raised:
        await run_block("text_splitter", {}, {"text": value})
    assert raised.value.error_type == "invalid_input"
