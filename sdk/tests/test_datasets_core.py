"""Dataset decisions that need no server: file types, the wire form of columns and parsing
options, what a processing status means to a waiter, and the models' reading of the wire."""

import datetime
from typing import Any, Dict

import pytest

from moderatelyai_sdk import (
    APIError,
    DatasetModel,
    DatasetSchemaVersionModel,
    ModeratelyAI,
    ModeratelyAIError,
    ProcessingError,
    SchemaBuilder,
)
from moderatelyai_sdk._datasets import (
    check_processing,
    data_file_type,
    infer_sample_schema,
    poll_delay,
    sample_head,
    wire_columns,
    wire_parsing_options,
    wire_type,
)


@pytest.mark.parametrize(
    ("file_type", "name", "head", "expected"),
    [
        ("csv", "x.bin", b"", "csv"),
        ("TSV", "x", b"", "csv"),
        (".xls", "x", b"", "xlsx"),
        ("parquet", "x", b"", "parquet"),  # left for the server to refuse
        (None, "sales.CSV", b"", "csv"),
        (None, "sales.tsv", b"", "csv"),
        (None, "notes.txt", b"", "csv"),
        (None, "book.xlsx", b"", "xlsx"),
        (None, "book.xls", b"", "xlsx"),
        (None, "uploaded_data", b"PK\x03\x04rest", "xlsx"),
        (None, "uploaded_data", b"a,b\n1,2\n", "csv"),
        (None, "uploaded_data", "é;ü\n".encode(), "csv"),
    ],
)
def test_data_file_type(file_type: Any, name: str, head: bytes, expected: str) -> None:
    assert data_file_type(file_type, name, head) == expected


@pytest.mark.parametrize("head", [b"", b"\x00\x01\x02", b"\xff\xfe\x00\x00binary"])
def test_data_file_type_refuses_what_it_cannot_tell(head: bytes) -> None:
    with pytest.raises(ValueError, match="file_type="):
        data_file_type(None, "uploaded_data", head)


@pytest.mark.parametrize(
    ("given", "wire"),
    [
        ("int", "integer"),
        ("str", "string"),
        ("bool", "boolean"),
        ("date", "datetime"),
        ("datetime", "datetime"),
        ("float", "float"),
        ("string", "string"),
        ("time", "time"),
        ("integer", "integer"),
        ("Decimal", "Decimal"),
        (int, "integer"),
        (str, "string"),
        (bool, "boolean"),
        (float, "float"),
        (datetime.date, "datetime"),
        (datetime.datetime, "datetime"),
    ],
)
def test_type_mapping(given: Any, wire: str) -> None:
    assert wire_type(given) == wire


def test_type_mapping_refuses_other_objects() -> None:
    with pytest.raises(ValueError):
        wire_type(dict)
    with pytest.raises(ValueError):
        wire_type(3)


def test_columns_in_wire_form() -> None:
    columns = wire_columns(
        [
            {"name": "id", "type": "int"},
            {"name": "email", "type": "string", "required": False, "description": "mail"},
            {"name": "at", "type": "date", "nullable": False, "required": False},
            {"name": "raw", "type": "str", "transform_expr": "trim(raw)", "description": None},
            {"name": "code", "type": "string", "pos": 9, "operations": [{"type": "x"}]},
        ]
    )
    assert columns == [
        {"pos": 1, "name": "id", "type": "integer", "nullable": False},
        {"pos": 2, "name": "email", "type": "string", "nullable": True, "description": "mail"},
        {"pos": 3, "name": "at", "type": "datetime", "nullable": False},
        {
            "pos": 4,
            "name": "raw",
            "type": "string",
            "nullable": False,
            "transformExpr": "trim(raw)",
        },
        {
            "pos": 9,
            "name": "code",
            "type": "string",
            "nullable": False,
            "operations": [{"type": "x"}],
        },
    ]


@pytest.mark.parametrize(
    "bad",
    [[], [{"name": "x"}], [{"type": "int"}], [{"name": None, "type": "int"}], "id", [3]],
)
def test_columns_refused_before_any_request(bad: Any) -> None:
    with pytest.raises(ValueError):
        wire_columns(bad)


def test_parsing_options_keys() -> None:
    assert wire_parsing_options(None) is None
    assert wire_parsing_options(
        {"header_row": 2, "skip_rows": [0], "delimiter": ";", "encoding": None, "quoteChar": "'"}
    ) == {"headerRow": 2, "skipRows": [0], "delimiter": ";", "quoteChar": "'"}


def test_check_processing() -> None:
    assert check_processing("d", "completed", None, None) is True
    assert check_processing("d", "in_progress", None, None) is False
    report: Dict[str, Any] = {
        "errorCount": 2,
        "errors": [
            {"kind": "type_mismatch", "row": 2, "line": 3, "column": "amount", "message": "bad"},
            {"kind": "missing_column", "row": None, "line": 1, "column": "zz", "message": "gone"},
            "not a dict",
        ],
    }
    with pytest.raises(ProcessingError) as caught:
        check_processing("d1", "failed", "does not match: 2 errors", report)
    error = caught.value
    assert isinstance(error, ModeratelyAIError) and not isinstance(error, APIError)
    assert (error.dataset_id, error.status, error.report) == ("d1", "failed", report)
    assert error.details["errorCount"] == 2 and len(error.errors) == 2
    assert str(error).splitlines() == [
        "Processing of dataset d1 failed: does not match: 2 errors",
        "  - row 2, line 3, column 'amount': bad",
        "  - line 1, column 'zz': gone",
    ]
    for status in (None, "needs-processing"):
        with pytest.raises(ProcessingError, match="not being processed") as caught:
            check_processing("d", status, None, None)
        assert caught.value.report is None and caught.value.errors == []


def test_poll_delay_grows_to_the_interval() -> None:
    delays = [poll_delay(n, 2.0) for n in range(9)]
    assert delays[0] == pytest.approx(0.1) and delays == sorted(delays)
    assert delays[-1] == 2.0 and poll_delay(3, 0.05) == 0.05


def test_models_read_the_wire() -> None:
    with ModeratelyAI(api_key="k", team_id="t", base_url="http://test") as client:
        dataset = client._cast(
            DatasetModel,
            {
                "datasetId": "d",
                "teamId": "t",
                "name": "n",
                "recordCount": 3,
                "processingStatus": "failed",
                "processingReport": {"ok": False},
                "futureField": 1,
            },
        )
        assert (dataset.record_count, dataset["processingStatus"]) == (3, "failed")
        assert dataset.processing_report == {"ok": False} and dataset["futureField"] == 1
        schema = client._cast(
            DatasetSchemaVersionModel,
            {
                "datasetSchemaVersionId": "s",
                "datasetId": "d",
                "versionNo": 2,
                "status": "current",
                "isCurrent": True,
                "columnsJson": [{"name": "a", "type": "integer", "nullable": False, "x": 1}],
                "parsingOptions": {"delimiter": ";", "headerRow": 1, "skipRows": [0, 2]},
            },
        )
        assert schema.is_current and schema["isCurrent"] is True
        column = schema.columns[0]
        assert (column.name, column.type, column.required, column["x"]) == ("a", "integer", True, 1)
        assert schema.parsing_options is not None and schema.parsing_options.skip_rows == [0, 2]
        assert schema.parsing_config is schema.parsing_options
        assert schema.to_dict()["columnsJson"] == [
            {"name": "a", "type": "integer", "nullable": False, "x": 1}
        ]
        builder = SchemaBuilder("d", client).add_column("id", int).with_parsing(skip_rows=[1])
        assert builder.columns == [{"pos": 1, "name": "id", "type": "integer", "nullable": False}]
        assert builder.parsing_options == {"skipRows": [1]} and builder.status == "draft"
        assert builder.as_current().status == "current" and builder.as_draft().status == "draft"


# --- a schema inferred from a sample in the client ------------------------------------------------


def columns_of(inferred: Dict[str, Any]) -> Any:
    return [(c["name"], c["type"], c["nullable"]) for c in inferred["columns"]]


def test_sample_types_follow_the_servers_rules() -> None:
    sample = (
        b"id,price,ok,flag,day,at,code,big,note,,id\n"
        b"1,3.5,yes,1,2024-02-29,2024-01-02T10:00:00Z,007,99999999999999999999,,a,x\n"
        b"-2,1e3,NO,0,2023-12-31,2024-01-02 10:00,012,1,x,b,y\n"
    )
    inferred = infer_sample_schema(sample, complete=True)
    assert columns_of(inferred) == [
        ("id", "integer", False),
        ("price", "float", False),
        ("ok", "boolean", False),
        ("flag", "integer", False),  # 1/0 alone is a number
        ("day", "date", False),
        ("at", "datetime", False),
        ("code", "string", False),  # leading zeros: a code
        ("big", "string", False),  # beyond 64 bits: an id, not a number
        ("note", "string", True),
        ("column_10", "string", False),  # a blank name
        ("id_2", "string", False),  # a repeated name
    ]
    assert [c["pos"] for c in inferred["columns"]] == list(range(1, 12))
    assert inferred["parsingOptions"] == {"encoding": "utf-8", "delimiter": ",", "headerRow": 1}


def test_sample_delimiter_header_row_and_skipped_lines() -> None:
    tsv = b"Exported 2024-05-01\nsku\tqty\n\nA-1\t3\nB-2\t\n"
    inferred = infer_sample_schema(tsv, complete=True, header_row=2)
    assert columns_of(inferred) == [("sku", "string", False), ("qty", "integer", True)]
    assert inferred["parsingOptions"]["delimiter"] == "\t"
    skipped = infer_sample_schema(
        b"junk\na;b\nunits;kg\n1;2\n", complete=True, parsing_options={"skip_rows": [0, 2]}
    )
    assert columns_of(skipped) == [("a", "integer", False), ("b", "integer", False)]
    assert skipped["parsingOptions"]["delimiter"] == ";"
    assert skipped["parsingOptions"]["skipRows"] == [0, 2]
    given = infer_sample_schema(b"a|b\n1|x\n", complete=True, parsing_options={"delimiter": "pipe"})
    assert given["parsingOptions"]["delimiter"] == "|" and len(given["columns"]) == 2


def test_sample_quotes_encodings_and_cut_heads() -> None:
    quoted = b'\xef\xbb\xbfid,name\r\n1,"Ada\nLovelace"\r\n2,"Hopper, Grace"\r\n'
    assert columns_of(infer_sample_schema(quoted, complete=True)) == [
        ("id", "integer", False),
        ("name", "string", False),
    ]
    latin = infer_sample_schema(b"name\nJos\xe9\n", complete=True)
    assert latin["parsingOptions"]["encoding"] == "latin-1"
    # A head cut in the middle of a record: the partial record does not count.
    cut = infer_sample_schema(b"id,name\n1,a\n2,b\n3.", complete=False)
    assert columns_of(cut)[0] == ("id", "integer", False)
    # Only the first sample_size records are read.
    limited = infer_sample_schema(b"n\n1\n2\nx\n", complete=True, sample_size=2)
    assert columns_of(limited) == [("n", "integer", False)]


def test_samples_without_records_or_header() -> None:
    header_only = infer_sample_schema(b"a,b\n", complete=True)
    assert columns_of(header_only) == [("a", "string", True), ("b", "string", True)]
    assert infer_sample_schema(b"", complete=True)["columns"] == []
    assert infer_sample_schema(b"\n\n", complete=True)["columns"] == []
    with pytest.raises(ValueError, match="not utf-16"):
        infer_sample_schema(b"\xff", complete=True, parsing_options={"encoding": "utf-16"})


def test_sample_head_is_cut_after_a_line_end_when_it_has_lines_enough() -> None:
    head = b"h1,h2\n" + b"1,2\n" * 10 + b"3,"  # the last line cut short
    assert sample_head(head, {}, 10) == head[:-2]
    assert sample_head(head, {}, 11) is None  # 11 records cannot fit in 11 lines
    assert sample_head(head, {"headerRow": 2}, 10) is None
    assert sample_head(head, {"skipRows": 1}, 10) is None
    assert sample_head(head, {"skipRows": [5]}, 9) == head[:-2]


def test_sample_head_never_cuts_wide_text() -> None:
    lines = "a,b\n" + "1,2\n" * 10
    assert sample_head(b"\xff\xfe" + lines.encode("utf-16-le"), {}, 2) is None  # a BOM
    assert sample_head(lines.encode("utf-16-le"), {}, 2) is None  # NUL bytes
    assert sample_head(lines.encode(), {"encoding": "utf_16"}, 2) is None
    assert sample_head(lines.encode(), {"encoding": "no-such-codec"}, 2) is None
    assert sample_head(lines.encode(), {"encoding": "cp1252"}, 2) == lines.encode()
