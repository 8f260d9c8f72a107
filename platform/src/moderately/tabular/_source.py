"""Turning a file plus ParsingOptions into what the DuckDB reader needs, and Python-side passes.

DuckDB reads the *working file*: the original when it is UTF-8 and no line below the header is
skipped, else a temporary UTF-8 copy (transcoded and/or with those lines dropped; line structure is
kept, so physical line numbers map back exactly). Python's csv module reads the header (cheap, one
record) and, only when there are errors to report, walks records to turn DuckDB's positions into
exact data-row and physical-line numbers (DuckDB's own "line" counts neither quoted line breaks nor
a skipped blank line the way a person counts them).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .options import MAX_COLUMNS, MAX_HEADER_CHARS, ParsingOptions

CHUNK = 1 << 20
# csv's default field limit (128 KiB) is below what a text-heavy CSV holds; DuckDB's max line size
# (_duck.MAX_LINE_SIZE) is the real limit. Raised once, process-wide, when a pass first runs.
_FIELD_LIMIT = 1 << 30


@dataclass(frozen=True, slots=True)
class DecodeProblem:
    """Bytes that are not valid in the declared (non-UTF-8) encoding."""

    line: int  # 1-based physical line of the first bad byte
    count: int  # how many bad sequences were replaced


@dataclass(slots=True)
class Source:
    original: Path
    path: Path  # the working file (UTF-8)
    options: ParsingOptions
    header_index: int  # 0-based physical line of the header in the working file
    header: list[str] | None  # raw header fields; None when the file ends before the header
    names: list[str] = field(default_factory=list)  # deduplicated, stripped header names
    removed: list[int] = field(
        default_factory=list
    )  # 0-based original lines dropped (below header)
    decode_problem: DecodeProblem | None = None

    @property
    def width(self) -> int:
        return len(self.names)

    @property
    def header_line(self) -> int:
        """1-based physical line of the header in the original file."""
        return self.header_index + 1

    def original_line(self, working_line: int) -> int:
        """Map a 1-based physical line of the working file to the original file."""
        index = working_line - 1
        for removed in self.removed:
            if removed <= index:
                index += 1
            else:
                break
        return index + 1

    def csv_dialect(self) -> dict[str, object]:
        return csv_kwargs(self.options)

    def data_text(self) -> contextlib.AbstractContextManager[IO[str]]:
        return _open_from_line(self.path, self.header_index)


def csv_kwargs(options: ParsingOptions, delimiter: str | None = None) -> dict[str, object]:
    """Python csv reader arguments equivalent to the DuckDB reader's."""
    kwargs: dict[str, object] = {"delimiter": delimiter or options.delimiter, "strict": False}
    if options.quote is None:
        kwargs["quoting"] = csv.QUOTE_NONE
    else:
        kwargs["quotechar"] = options.quote
        kwargs["doublequote"] = True
        if options.escape is not None:
            kwargs["escapechar"] = options.escape
    return kwargs


def raise_field_limit() -> None:
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)


@contextlib.contextmanager
def _open_from_line(path: Path, line_index: int) -> Iterator[IO[str]]:
    """Text from the start of physical line ``line_index`` (0-based); lines split on ``\\n``."""
    with path.open("rb") as raw:
        for _ in range(line_index):
            if not raw.readline():
                break
        encoding = "utf-8-sig" if raw.tell() == 0 else "utf-8"
        text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        try:
            yield text
        finally:
            text.detach()


def dedupe_names(fields: list[str]) -> list[str]:
    """Header names as columns: stripped; blank -> ``column_<pos>``; repeats -> ``name_2``, ...

    Linear time however often a name repeats: each name remembers the suffix where its last
    search ended, and a taken candidate stays taken, so no suffix is tried twice.
    """
    names: list[str] = []
    taken: set[str] = set()
    next_suffix: dict[str, int] = {}
    stripped = [f.strip() for f in fields]
    reserved = {s for s in stripped if s}
    for pos, name in enumerate(stripped, start=1):
        base = name or f"column_{pos}"
        candidate = base
        n = next_suffix.get(base, 2)
        while candidate in taken or (not name and candidate in reserved):
            candidate = f"{base}_{n}"
            n += 1
        if name:
            # (A blank's base is unique to its position; a suffix it skipped for being
            # reserved may still suit a named column, so only named searches are remembered.)
            next_suffix[base] = n
        taken.add(candidate)
        names.append(candidate)
    return names


class HeaderTooLarge(ValueError):
    """The header row is wider or longer than the engine reads (``MAX_COLUMNS``,
    ``MAX_HEADER_CHARS``)."""


def _capped_lines(text: IO[str], limit: int) -> Iterator[str]:
    """The lines of ``text``, raising ``HeaderTooLarge`` once more than ``limit`` characters
    were read (never holding more than that: a line is read in bounded pieces)."""
    used = 0
    while line := text.readline(limit - used + 1):
        used += len(line)
        if used > limit:
            raise HeaderTooLarge(f"the header row is longer than {limit} characters")
        yield line


def read_header(path: Path, options: ParsingOptions, header_index: int) -> list[str] | None:
    """The header record's raw fields; None when the file ends before it (or it is not CSV).

    Raises ``HeaderTooLarge`` for a header of more than ``MAX_COLUMNS`` fields or
    ``MAX_HEADER_CHARS`` characters (read in bounded pieces, never whole)."""
    raise_field_limit()
    with _open_from_line(path, header_index) as text:
        lines = _capped_lines(text, MAX_HEADER_CHARS)
        reader = csv.reader(lines, **csv_kwargs(options))  # type: ignore[arg-type]
        try:
            fields = next(reader)
        except StopIteration:
            return None
        except csv.Error:
            return None
    if len(fields) > MAX_COLUMNS:
        raise HeaderTooLarge(
            f"the header row has {len(fields)} columns; at most {MAX_COLUMNS} are supported"
        )
    return fields


@contextlib.contextmanager
def prepare(path: str | Path, options: ParsingOptions) -> Iterator[Source]:
    """The Source for ``path`` (temporary files removed on exit); OSError on I/O problems."""
    original = Path(path)
    with original.open("rb"):
        pass  # FileNotFoundError / PermissionError / IsADirectoryError surface here
    if original.is_dir():
        raise IsADirectoryError(str(original))
    header_index = options.header_line_index
    removed = sorted(options.skipped_data_lines)
    with contextlib.ExitStack() as stack:
        working = original
        problem: DecodeProblem | None = None
        if options.encoding != "utf-8" or removed:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mdt-tab-")))
            working = tmp / "data.csv"
            problem = _write_working_copy(original, working, options.encoding, set(removed))
        header = read_header(working, options, header_index)
        yield Source(
            original=original,
            path=working,
            options=options,
            header_index=header_index,
            header=header,
            names=dedupe_names(header) if header else [],
            removed=removed,
            decode_problem=problem,
        )


def _write_working_copy(
    src: Path, dst: Path, encoding: str, drop: set[int]
) -> DecodeProblem | None:
    """Copy ``src`` to UTF-8 ``dst`` dropping the 0-based physical lines in ``drop``.

    Undecodable bytes become U+FFFD; the first one's line and a count are returned.
    """
    lenient = codecs.getincrementaldecoder(encoding)(errors="replace")
    strict = codecs.getincrementaldecoder(encoding)(errors="strict")
    first_bad_line: int | None = None
    bad = 0
    line = 0  # 0-based index of the line being written
    carry = ""
    with src.open("rb") as fin, dst.open("w", encoding="utf-8", newline="") as fout:
        while True:
            chunk = fin.read(CHUNK)
            final = not chunk
            text = lenient.decode(chunk, final)
            if first_bad_line is None:
                try:
                    strict.decode(chunk, final)
                except UnicodeDecodeError:
                    head = text.split("\ufffd", 1)[0]
                    first_bad_line = line + (carry + head).count("\n") + 1
            if first_bad_line is not None:
                bad += text.count("\ufffd")
            text = carry + text
            parts = text.split("\n")
            carry = "" if final else parts.pop()
            for i, part in enumerate(parts):
                last = final and i == len(parts) - 1
                if line not in drop:
                    fout.write(part if last else part + "\n")
                if not last:
                    line += 1
            if final:
                break
    if first_bad_line is None:
        return None
    return DecodeProblem(line=first_bad_line, count=max(bad, 1))


@contextlib.contextmanager
def lf_copy(source: Source) -> Iterator[Source]:
    """``source`` with CRLF turned into LF in a temporary copy (line numbers are unchanged).

    DuckDB's strict reader cannot read a file that mixes CRLF and LF line ends (it stops with "the
    CSV parser state machine reached an invalid state"); this copy is the retry. Line breaks inside
    quoted values become LF too, which changes no check.
    """
    with tempfile.TemporaryDirectory(prefix="mdt-tab-lf-") as tmp:
        target = Path(tmp) / "data.csv"
        with source.path.open("rb") as fin, target.open("wb") as fout:
            pending_cr = False
            while chunk := fin.read(CHUNK):
                if pending_cr:
                    chunk = b"\r" + chunk
                pending_cr = chunk.endswith(b"\r")
                if pending_cr:
                    chunk = chunk[:-1]
                fout.write(chunk.replace(b"\r\n", b"\n"))
            if pending_cr:
                fout.write(b"\r")
        yield dataclasses.replace(source, path=target)


def newline_counts(path: Path, offsets: list[int]) -> dict[int, int]:
    """1-based physical line of each byte offset (number of ``\\n`` before it, plus one)."""
    result: dict[int, int] = {}
    if not offsets:
        return result
    targets = sorted(set(offsets))
    seen = 0
    base = 0
    i = 0
    with path.open("rb") as f:
        while i < len(targets):
            chunk = f.read(CHUNK)
            end = base + len(chunk)
            while i < len(targets) and (targets[i] <= end or not chunk):
                target = targets[i]
                result[target] = seen + chunk.count(b"\n", 0, max(0, target - base)) + 1
                i += 1
            if not chunk:
                break
            seen += chunk.count(b"\n")
            base = end
    return result


@dataclass(slots=True)
class Located:
    by_line: dict[int, int]  # physical start line (working) of a rejected record -> data row
    by_rank: dict[int, tuple[int, int]]  # accepted rank (0-based) -> (data row, start line)


def locate(
    source: Source,
    rejected_lines: list[int],
    wanted_lines: set[int],
    wanted_ranks: set[int],
) -> Located:
    """Walk the data records once, up to the last one asked for.

    ``rejected_lines``: sorted physical start lines (working file, 1-based) of every record the
    DuckDB reader rejected (they have a data row but no rank among the accepted rows).
    """
    raise_field_limit()
    out = Located(by_line={}, by_rank={})
    rejected = set(rejected_lines)
    need_lines = set(wanted_lines)
    need_ranks = set(wanted_ranks)
    if not need_lines and not need_ranks:
        return out
    keep_blank = source.width == 1  # a blank line is a record (an empty value) in a 1-column file
    with source.data_text() as text:
        reader = csv.reader(text, **source.csv_dialect())  # type: ignore[arg-type]
        try:
            next(reader)  # the header
            row = 0
            rank = 0
            previous_end = reader.line_num
            for fields in reader:
                start = source.header_index + previous_end + 1
                previous_end = reader.line_num
                if not fields and not keep_blank:
                    continue
                row += 1
                if start in rejected:
                    if start in need_lines:
                        out.by_line[start] = row
                        need_lines.discard(start)
                else:
                    if rank in need_ranks:
                        out.by_rank[rank] = (row, start)
                        need_ranks.discard(rank)
                    rank += 1
                if not need_lines and not need_ranks:
                    break  # bounded: stops at the last record asked for
        except (StopIteration, csv.Error):
            pass
    return out
