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
    poll_delay,
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
    delays = [poll_delay(n, 2.0) for n in range(8)]
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
