"""Datasets against the real server, on both configurations (SQLite + local store, PostgreSQL +
S3): data versions, schema versions, inference, processing, bad input and isolation."""

import hashlib
import io
import sys
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Tuple

import httpx
import pytest

from moderatelyai_sdk import (
    APIError,
    AsyncModeratelyAI,
    AsyncPage,
    AsyncSchemaBuilder,
    ConflictError,
    DatasetAsyncModel,
    DatasetDataVersionAsyncModel,
    DatasetSchemaVersionAsyncModel,
    NotFoundError,
    ProcessingError,
    SchemaColumn,
    ValidationError,
)
from moderatelyai_sdk._base_client import EXTENSION_SCHEMA_INFERENCE
from moderatelyai_sdk._datasets import SAMPLE_UPLOAD_BYTES

pytestmark = pytest.mark.anyio

# Five line breaks, three records: one value holds a quoted line break, one a quoted comma.
QUOTED = b'id,name,amount\n1,"Ada\nLovelace",3.5\n2,"Hopper, Grace",4\n3,Edsger,5\n'
PLAIN = b"id,name,amount\n1,Ada,3.5\n2,Grace,4\n"
TYPED = (
    b"id,price,active,day,seen_at,code,label,note\n"
    b"1,3.5,true,2024-01-02,2024-01-02T10:00:00Z,007,alpha,\n"
    b"2,4,false,2024-02-29,2024-02-03 11:30,012,beta,x\n"
    b"3,-1.25,yes,2023-12-31,2023-12-31T23:59:59+02:00,100,gamma,\n"
)
FAST = {"poll_interval": 0.2, "timeout": 60.0}


def connect(credentials: Any, **overrides: Any) -> AsyncModeratelyAI:
    options = {
        "api_key": credentials.api_key,
        "team_id": credentials.team_id,
        "base_url": credentials.base_url,
        **overrides,
    }
    return AsyncModeratelyAI(**options)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Recorder(httpx.AsyncBaseTransport):
    """The real transport, recording every request; ``drop_puts`` presigned PUTs fail first."""

    def __init__(self, drop_puts: int = 0) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: List[httpx.Request] = []
        self.drop_puts = drop_puts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "PUT" and self.drop_puts:
            self.drop_puts -= 1
            raise httpx.WriteError("connection reset by peer", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def dataset_with_schema(
    client: AsyncModeratelyAI, data: bytes = PLAIN, name: str = "orders"
) -> Tuple[DatasetAsyncModel, DatasetDataVersionAsyncModel]:
    dataset = await client.datasets.create(name=name)
    version = await dataset.upload_data(data, file_type="csv")
    await dataset.create_schema(
        [
            {"name": "id", "type": "int"},
            {"name": "name", "type": "string", "required": False},
            {"name": "amount", "type": "float"},
        ],
        status="current",
    )
    return dataset, version


# --- the datasets resource -----------------------------------------------------------------------


async def test_create_list_retrieve_update_delete(fresh: Any) -> None:
    async with connect(fresh) as client:
        sales = await client.datasets.create(name="Sales 2024", description="by region")
        other = await client.datasets.create(name="Clauses")
        assert isinstance(sales, DatasetAsyncModel) and sales["datasetId"] == sales.dataset_id
        assert (sales.team_id, sales.description) == (fresh.team_id, "by region")
        assert sales.processing_status is None and sales.record_count is None
        assert sales.current_data_version_id is None and sales.current_schema_version_id is None

        page = await client.datasets.list()
        assert isinstance(page, AsyncPage) and page["pagination"]["totalItems"] == 2
        assert [d.name for d in page["items"]] == ["Clauses", "Sales 2024"]  # newest first
        by_name = await client.datasets.list(order_by="name", order_direction="asc")
        assert [d.name for d in by_name.data] == ["Clauses", "Sales 2024"]
        assert [d.dataset_id for d in (await client.datasets.list(name_like="sales")).data] == [
            sales.dataset_id
        ]
        assert [d.name for d in (await client.datasets.list(name="Clauses")).data] == ["Clauses"]
        chosen = await client.datasets.list(dataset_ids=[sales.dataset_id, other.dataset_id])
        assert len(chosen.data) == 2
        walked = [
            d.name async for d in (await client.datasets.list(page_size=1)).auto_paging_iter()
        ]
        assert sorted(walked) == ["Clauses", "Sales 2024"]

        with pytest.raises(ConflictError):
            await client.datasets.create(name="Clauses")
        updated = await client.datasets.update(sales.dataset_id, description="by country")
        assert (updated.name, updated.description) == ("Sales 2024", "by country")
        same = await sales.update(name="Sales")
        assert same is sales and sales.name == "Sales" and sales.description == "by country"
        assert (await client.datasets.retrieve(sales.dataset_id)).name == "Sales"
        assert (await sales.refresh()) is sales

        await sales.delete()
        await client.datasets.delete(other.dataset_id)
        with pytest.raises(NotFoundError):
            await client.datasets.retrieve(sales.dataset_id)
        with pytest.raises(NotFoundError):
            await client.datasets.delete(other.dataset_id)
        assert (await client.datasets.list())["items"] == []


# --- data versions -------------------------------------------------------------------------------


async def test_upload_from_every_source_and_download_each_version(
    fresh: Any, tmp_path: Path
) -> None:
    source = tmp_path / "orders.csv"
    source.write_bytes(QUOTED)
    second = PLAIN
    third = b"id,name,amount\n9,Zed,1\n"
    stream = io.BytesIO(third)
    stream.name = "/exports/draft.csv"  # type: ignore[attr-defined]
    sent: List[Tuple[int, int]] = []
    async with connect(fresh) as client:
        dataset = await client.datasets.create(name="orders")
        v1 = await dataset.upload_data(source, progress=lambda d, t: sent.append((d, t)))
        assert isinstance(v1, DatasetDataVersionAsyncModel)
        assert (v1.version_no, v1.status, v1.file_type, v1.file_name) == (
            1,
            "current",
            "csv",
            "orders.csv",
        )
        # The server's count: three records, although the file has five line breaks.
        assert v1.row_count == 3 and v1["rowCount"] == 3
        assert v1.file_hash == sha256(QUOTED) and v1.file_size_bytes == len(QUOTED)
        assert sent[0] == (0, len(QUOTED)) and sent[-1] == (len(QUOTED), len(QUOTED))
        # The dataset follows its new current data.
        assert dataset.current_data_version_id == v1.dataset_data_version_id
        assert (dataset.record_count, dataset.total_size_bytes) == (3, len(QUOTED))
        assert dataset.processing_status == "needs-processing"

        v2 = await dataset.upload_data(second, file_type="csv", filename="second.csv")
        v3 = await dataset.upload_data(stream, status="draft")
        assert (v2.version_no, v2.row_count, v2.file_name) == (2, 2, "second.csv")
        assert (v3.version_no, v3.status, v3.file_name) == (3, "draft", "draft.csv")
        assert dataset.current_data_version_id == v2.dataset_data_version_id
        assert (await v1.refresh()).status == "archived"
        assert (await dataset.get_data_version(v2.dataset_data_version_id)).status == "current"

        versions = await dataset.list_data_versions()
        assert [v.version_no for v in versions] == [3, 2, 1]  # newest first
        archived = await dataset.list_data_versions(status="archived")
        assert [v.dataset_data_version_id for v in archived] == [v1.dataset_data_version_id]
        assert [v.version_no for v in await dataset.list_data_versions(page=2, page_size=2)] == [1]

        assert await dataset.download_data() == second
        assert await dataset.download_data(version_id=v1.dataset_data_version_id) == QUOTED
        assert await v3.download() == third
        assert await dataset.download_data(path=tmp_path / "out" / "current.csv") is None
        assert await v1.download(path=tmp_path / "out" / "v1.csv") is None
        # A model that knows of no current version looks again before giving up.
        stale = await client.datasets.retrieve(dataset.dataset_id)
        stale.current_data_version_id = None
        assert await stale.download_data() == second
    assert (tmp_path / "out" / "current.csv").read_bytes() == second
    assert (tmp_path / "out" / "v1.csv").read_bytes() == QUOTED
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["current.csv", "v1.csv"]


@pytest.mark.parametrize(
    ("data", "rows"),
    [
        (b"id,name\n1,a\n2,b", 2),  # no final newline
        (b"\xef\xbb\xbfid,name\r\n1,a\r\n2,b\r\n", 2),  # BOM and CRLF
        (b'id,note\n1,"x\n\ny"\n', 1),  # blank lines inside a quoted value
        (b"id,name\n", 0),  # header only
    ],
    ids=["no-final-newline", "bom-crlf", "quoted-blank-lines", "header-only"],
)
async def test_row_count_is_the_servers(fresh: Any, data: bytes, rows: int) -> None:
    async with connect(fresh) as client:
        dataset = await client.datasets.create(name="counts")
        version = await dataset.upload_data(file=data, file_type="csv", status="current")
        assert version.row_count == rows == dataset.record_count
        assert await version.download() == data


async def test_upload_mistakes_raise_before_any_request(fresh: Any, tmp_path: Path) -> None:
    transport = Recorder()
    http = httpx.AsyncClient(transport=transport)
    async with connect(fresh, http_client=http) as client:
        dataset = await client.datasets.create(name="strict")
        transport.requests.clear()
        with pytest.raises(FileNotFoundError):
            await dataset.upload_data(tmp_path / "missing.csv")
        with pytest.raises(ValueError, match="file_type"):
            await dataset.upload_data(b"\x00\x01\x02 binary")
        assert transport.requests == []
        with pytest.raises(ValueError, match="no current data version"):
            await dataset.download_data()
        with pytest.raises(ValueError):
            await dataset.create_schema([{"name": "id"}])
        with pytest.raises(ValueError):
            await dataset.schema_builder().create()
        # Only the refresh of download_data() went out.
        assert [r.method for r in transport.requests] == ["GET"]
        # The server refuses an unknown file type before anything is uploaded.
        with pytest.raises(ValidationError):
            await dataset.upload_data(PLAIN, file_type="parquet")
        assert not [r for r in transport.requests if r.method == "PUT"]
        assert await dataset.list_data_versions() == []
    await http.aclose()


async def test_upload_retries_and_refusals_keep_the_current_version(
    fresh: Any, sleeps: List[float]
) -> None:
    transport = Recorder(drop_puts=1)
    http = httpx.AsyncClient(transport=transport)
    async with connect(fresh, http_client=http) as client:
        dataset = await client.datasets.create(name="flaky")
        version = await dataset.upload_data(QUOTED, file_type="csv")
        puts = [r for r in transport.requests if r.method == "PUT"]
        assert len(puts) == 2 and len(sleeps) == 1  # the PUT was sent again, whole
        assert "authorization" not in puts[1].headers  # the API key never goes to storage
        assert puts[1].headers["content-type"] == "text/csv"
        assert version.row_count == 3 and await version.download() == QUOTED
        # A hash that is not the bytes' is refused by the store; the current version stays.
        with pytest.raises(APIError) as caught:
            await dataset.upload_data(PLAIN, file_type="csv", file_hash=sha256(b"other"))
        assert caught.value.status_code == 400 and "presigned upload" in caught.value.message
        await dataset.refresh()
        assert dataset.current_data_version_id == version.dataset_data_version_id
        assert await dataset.download_data() == QUOTED
    await http.aclose()


async def test_data_versions_sub_resource(fresh: Any, tmp_path: Path) -> None:
    transport = Recorder()
    http = httpx.AsyncClient(transport=transport)
    async with connect(fresh, http_client=http) as client:
        dataset = await client.datasets.create(name="versions")
        versions = client.datasets.data_versions
        assert type(versions).__name__ == "AsyncDatasetDataVersions"
        first = await versions.upload(
            dataset.dataset_id, PLAIN, file_type="csv", filename="a.csv", timeout=30
        )
        assert isinstance(first, DatasetDataVersionAsyncModel)
        assert (first.version_no, first.status, first.row_count, first.file_name) == (
            1,
            "current",
            2,
            "a.csv",
        )
        # The low-level steps, as upload makes them: create, PUT the bytes, complete.
        created = await versions.create(
            dataset_id=dataset.dataset_id,
            file_name="b.csv",
            file_type="csv",
            status="draft",
            file_size_bytes=len(QUOTED),
            file_hash=sha256(QUOTED),
        )
        pending = created["dataVersion"]
        assert pending["uploadStatus"] == "pending" and created["uploadUrl"]
        headers = {"Content-Type": "text/csv", **(created.get("uploadHeaders") or {})}
        async with httpx.AsyncClient() as raw:
            put = await raw.put(created["uploadUrl"], content=QUOTED, headers=headers)
        assert put.status_code == 200, put.text
        second = await versions.complete(
            pending["datasetDataVersionId"], file_size_bytes=len(QUOTED), file_hash=sha256(QUOTED)
        )
        assert (second.version_no, second.status, second.row_count) == (2, "draft", 3)

        page = await versions.list(dataset_ids=[dataset.dataset_id], order_by="versionNo")
        assert isinstance(page, AsyncPage) and [v.version_no for v in page.data] == [2, 1]
        walked = versions.list(
            dataset_ids=[dataset.dataset_id],
            page_size=1,
            order_by="versionNo",
            order_direction="asc",
        )
        assert [v.version_no async for v in walked] == [1, 2]
        drafts = await versions.list(dataset_ids=[dataset.dataset_id], status="draft")
        assert [v.dataset_data_version_id for v in drafts.data] == [second.dataset_data_version_id]
        again = await versions.retrieve(second.dataset_data_version_id)
        assert again.to_dict() == second.to_dict()
        assert await versions.download(second.dataset_data_version_id) == QUOTED
        target = tmp_path / "first.csv"
        assert await versions.download(first.dataset_data_version_id, path=target) is None
        assert target.read_bytes() == PLAIN

        # Request options reach every API request of a transfer, never the storage URL.
        transport.requests.clear()
        await versions.upload(dataset.dataset_id, PLAIN, extra_headers={"X-Trace": "t-1"})
        await versions.download(first.dataset_data_version_id, extra_headers={"X-Trace": "t-2"})
        api = [r for r in transport.requests if "authorization" in r.headers]
        storage = [r for r in transport.requests if "authorization" not in r.headers]
        assert [r.headers["x-trace"] for r in api] == ["t-1", "t-1", "t-2"]
        assert len(storage) == 2 and not [r for r in storage if "x-trace" in r.headers]

        raw_answer = await client.with_raw_response.datasets.data_versions.retrieve(
            first.dataset_data_version_id
        )
        assert raw_answer.status_code == 200 and raw_answer.request_id
        assert (await raw_answer.parse()).version_no == 1
        with pytest.raises(NotFoundError):
            await versions.retrieve("nope")
    await http.aclose()


async def test_schema_versions_sub_resource(fresh: Any) -> None:
    async with connect(fresh) as client:
        dataset = await client.datasets.create(name="schema versions")
        schemas = client.datasets.schema_versions
        assert type(schemas) is type(client.dataset_schema_versions)
        version = await dataset.upload_data(QUOTED, file_type="csv")
        inferred = await schemas.create_from_sample(dataset.dataset_id, QUOTED, status="current")
        assert [(c.name, c.type) for c in inferred.columns] == [
            ("id", "integer"),
            ("name", "string"),
            ("amount", "float"),
        ]
        assert inferred.parsing_options is not None and inferred.parsing_options.delimiter == ","
        draft = await schemas.create(
            dataset_id=dataset.dataset_id, columns=[{"name": "id", "type": "int"}], timeout=30
        )
        listed = await schemas.list(dataset_ids=[dataset.dataset_id], order_by="versionNo")
        assert [s.version_no for s in listed] == [2, 1]
        assert (await schemas.retrieve(draft.dataset_schema_version_id)).status == "draft"
        updated = await schemas.update(draft.dataset_schema_version_id, status="current")
        assert updated.status == "current"
        assert (await schemas.retrieve(inferred.dataset_schema_version_id)).status == "archived"
        if EXTENSION_SCHEMA_INFERENCE in await client._extensions():
            answer = await schemas.infer(data_version_id=version.dataset_data_version_id)
            assert [c["type"] for c in answer["columns"]] == ["integer", "string", "float"]
            assert answer["rowsSampled"] == 3 and answer["sampledAll"] is True
        else:
            with pytest.raises(NotFoundError):
                await schemas.infer(data_version_id=version.dataset_data_version_id)


# --- schema versions ---------------------------------------------------------------------------


async def test_create_schema_builder_activate_archive(fresh: Any) -> None:
    async with connect(fresh) as client:
        dataset = await client.datasets.create(name="schemas")
        draft = await dataset.create_schema(
            [
                {"name": "user_id", "type": "int", "required": True},
                {"name": "email", "type": "string"},
                {"name": "signup_date", "type": "date", "required": False},
                {"name": "active", "type": bool, "description": "still a customer"},
                {"name": "score", "type": "float", "operations": [{"type": "strip_whitespace"}]},
            ],
            parsing_options={"header_row": 1, "delimiter": ";", "skipRows": 0},
        )
        assert isinstance(draft, DatasetSchemaVersionAsyncModel)
        assert (draft.version_no, draft.status, draft.is_current) == (1, "draft", False)
        assert [(c.name, c.type, c.required, c.pos) for c in draft.columns] == [
            ("user_id", "integer", True, 1),
            ("email", "string", True, 2),
            ("signup_date", "datetime", False, 3),
            ("active", "boolean", True, 4),
            ("score", "float", True, 5),
        ]
        assert all(isinstance(c, SchemaColumn) for c in draft.columns)
        assert draft.get_column("active") is not None
        assert draft.get_column("active").description == "still a customer"  # type: ignore[union-attr]
        assert draft.get_column("nope") is None
        assert draft.columns[4].operations == [{"type": "strip_whitespace"}]
        assert draft["columnsJson"][0]["name"] == "user_id"
        assert draft.parsing_options is not None and draft.parsing_options.delimiter == ";"
        assert draft.parsing_config is draft.parsing_options
        assert await dataset.get_current_schema() is None

        builder = (
            dataset.schema_builder()
            .add_column("id", "int", required=True)
            .add_column("name", "string", description="User name", required=False)
            .with_parsing(delimiter=",", header_row=1)
            .as_draft()
            .as_current()
        )
        assert isinstance(builder, AsyncSchemaBuilder)
        built = await builder.create()
        assert (built.version_no, built.status, built.is_current) == (2, "current", True)
        assert [(c.name, c.type, c.nullable) for c in built.columns] == [
            ("id", "integer", False),
            ("name", "string", True),
        ]
        current = await dataset.get_current_schema()
        assert current is not None
        assert current.dataset_schema_version_id == built.dataset_schema_version_id
        assert (
            await dataset.refresh()
        ).current_schema_version_id == current.dataset_schema_version_id

        assert (await draft.activate()) is draft and draft.status == "current"
        assert (await built.refresh()).status == "archived"
        assert [s.version_no for s in await dataset.list_schema_versions()] == [2, 1]
        assert [s.version_no for s in await dataset.list_schema_versions(status="archived")] == [2]

        await draft.add_column("country", "str", required=False, position=2)
        assert [(c.name, c.pos) for c in draft.columns][:3] == [
            ("user_id", 1),
            ("country", 2),
            ("email", 3),
        ]
        await draft.add_column("notes", "string", required=False)
        assert draft.columns[-1].name == "notes" and draft.columns[-1].pos == 7
        await draft.remove_column("email")
        assert draft.get_column("email") is None and len(draft.columns) == 6
        with pytest.raises(ValueError):
            await draft.remove_column("email")
        await draft.update(parsing_options={"delimiter": "\t", "header_row": 2})
        assert draft.parsing_options is not None
        assert (draft.parsing_options.delimiter, draft.parsing_options.header_row) == ("\t", 2)
        again = await dataset.get_schema_version(draft.dataset_schema_version_id)
        assert again.to_dict() == draft.to_dict()

        assert (await draft.archive()).status == "archived"
        assert await dataset.get_current_schema() is None
        assert (await dataset.refresh()).current_schema_version_id is None

        for bad in ([{"name": "", "type": "int"}], [{"name": "a", "type": " "}]):
            with pytest.raises(ValidationError):
                await dataset.create_schema(bad)
        with pytest.raises(ValidationError):
            await dataset.create_schema(
                [{"name": "a", "type": "int"}, {"name": "a", "type": "int"}]
            )
        with pytest.raises(ValidationError):
            await dataset.create_schema(
                [{"name": "a", "type": "int"}], parsing_options={"delimiter": "ab"}
            )


def extensions_listed(*names: str) -> Callable[[], Any]:
    """A stand-in for ``client._extensions``: the server lists ``names``."""

    async def listed() -> FrozenSet[str]:
        return frozenset(names)

    return listed


@pytest.mark.parametrize("inference", ["server", "client"])
async def test_schema_from_sample(
    fresh: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inference: str
) -> None:
    """The server's inference when it lists the extension, else the same columns inferred in
    the client (as on a server that offers only the published API); same schema either way."""
    sample = tmp_path / "sample.csv"
    sample.write_bytes(TYPED)
    transport = Recorder()
    http = httpx.AsyncClient(transport=transport)
    async with connect(fresh, http_client=http) as client:
        names = [EXTENSION_SCHEMA_INFERENCE] if inference == "server" else []
        monkeypatch.setattr(client, "_extensions", extensions_listed(*names))
        dataset = await client.datasets.create(name="typed")
        schema = await dataset.create_schema_from_sample(
            sample_file=sample, status="current", header_row=1
        )
        assert [(c.name, c.type, c.nullable) for c in schema.columns] == [
            ("id", "integer", False),
            ("price", "float", False),
            ("active", "boolean", False),
            ("day", "date", False),
            ("seen_at", "datetime", False),
            ("code", "string", False),  # leading zeros: a code, not a number
            ("label", "string", False),
            ("note", "string", True),  # blanks in the sample
        ]
        assert schema.status == "current"
        assert dataset.current_schema_version_id == schema.dataset_schema_version_id
        assert schema.parsing_options is not None and schema.parsing_options.delimiter == ","

        tsv = b"Exported 2024-05-01\nsku\tqty\tin_stock\nA-1\t3\tyes\nB-2\t\tno\n"
        sniffed = await dataset.create_schema_from_sample(tsv, header_row=2)
        assert sniffed.status == "draft" and sniffed.parsing_options is not None
        assert (sniffed.parsing_options.delimiter, sniffed.parsing_options.header_row) == ("\t", 2)
        assert [(c.name, c.type, c.nullable) for c in sniffed.columns] == [
            ("sku", "string", False),
            ("qty", "integer", True),
            ("in_stock", "boolean", False),
        ]
        semicolons = io.BytesIO(b"a;b\n1;x\n")
        forced = await dataset.create_schema_from_sample(
            semicolons, parsing_options={"delimiter": ";"}, sample_size=10
        )
        assert [c.type for c in forced.columns] == ["integer", "string"]
        paths = [r.url.path for r in transport.requests]
        if inference == "server":
            assert (
                paths.count("/dataset-schema-versions/infer") == 4
            )  # 1 + 2 (the delimiter sniffed first) + 1
            assert paths.count("/files/upload-url") == 3
        else:
            assert "/dataset-schema-versions/infer" not in paths
            assert not [p for p in paths if p.startswith("/files")]
        # Samples that went up as temporary files were removed afterwards.
        assert (await client.files.list())["items"] == []
        with pytest.raises(ValueError):
            await dataset.create_schema_from_sample(b"")
    await http.aclose()


def representative_rows(count: int) -> bytes:
    """A header and ``count`` rows whose first hundred say what the rest are."""
    rows = [b"id,price,active,day,code,note"]
    for i in range(1, count + 1):
        note = b"" if i % 3 == 0 else b"note %d" % i
        rows.append(b"%d,%d.25,%s,2024-01-%02d,%05d,%s" % (i, i, b"yes", i % 28 + 1, i, note))
    return b"\n".join(rows) + b"\n"


async def whole_file_inference(client: AsyncModeratelyAI, data: bytes) -> Dict[str, Any]:
    """What the server infers from the first 100 records of ``data`` uploaded whole."""
    uploaded = await client.files.upload(data, name="whole.csv")
    try:
        return await client.datasets.schema_versions.infer(
            file_id=uploaded.file_id, sample_rows=100
        )
    finally:
        await client.files.delete(uploaded.file_id)


def typed(columns: Any) -> List[Tuple[Any, ...]]:
    """(name, type, nullable) of schema columns or of inferred wire columns."""
    as_dicts = [c if isinstance(c, dict) else c.to_dict() for c in columns]
    return [(c["name"], c["type"], c["nullable"]) for c in as_dicts]


def sample_puts(transport: Recorder) -> List[int]:
    """Sizes of the samples that went up (PUTs after a files upload-url)."""
    sizes, after_files = [], False
    for request in transport.requests:
        if request.url.path == "/files/upload-url":
            after_files = True
        elif request.method == "PUT" and after_files:
            sizes.append(int(request.headers["content-length"]))
            after_files = False
    return sizes


async def test_schema_from_a_large_sample_sends_its_head(fresh: Any, tmp_path: Path) -> None:
    """Of a sample over SAMPLE_UPLOAD_BYTES only the head goes up (cut after a line end): the
    server reads the first records and sniffs from the first bytes, so the schema is the one
    the whole file gives; a head with fewer records than asked for sends the whole file."""
    data = representative_rows(40_000)
    assert len(data) > SAMPLE_UPLOAD_BYTES
    sample = tmp_path / "large.csv"
    sample.write_bytes(data)
    transport = Recorder()
    http = httpx.AsyncClient(transport=transport)
    # (A fresh server's first job starts its workers' job processes: slow on a busy machine.)
    async with connect(fresh, http_client=http, timeout=120) as client:
        if EXTENSION_SCHEMA_INFERENCE not in await client._extensions():
            pytest.skip("the server does not infer schemas")
        dataset = await client.datasets.create(name="large sample")
        schema = await dataset.create_schema_from_sample(sample)
        (sent,) = sample_puts(transport)
        assert sent <= SAMPLE_UPLOAD_BYTES and data[:sent].endswith(b"\n")
        whole = await whole_file_inference(client, data)
        assert typed(schema.columns) == typed(whole["columns"])
        assert schema.parsing_options is not None
        assert schema.parsing_options.delimiter == whole["parsingOptions"]["delimiter"]
        assert [(c.name, c.type, c.nullable) for c in schema.columns] == [
            ("id", "integer", False),
            ("price", "float", False),
            ("active", "boolean", False),
            ("day", "date", False),
            ("code", "string", False),
            ("note", "string", True),
        ]

        # Records of many lines: the head's lines are enough, its records are not (40 of the
        # 100 asked for), so the whole file goes up; record 90's price makes it a string.
        long_note = b'"' + b"line\n" * 5_000 + b'"'
        rows = [b"id,price,note"] + [
            b"%d,%s,%s" % (i, b"n/a" if i == 90 else b"%d.5" % i, long_note) for i in range(1, 121)
        ]
        multi_line = b"\n".join(rows) + b"\n"
        transport.requests.clear()
        schema = await dataset.create_schema_from_sample(multi_line)
        sizes = sample_puts(transport)
        assert len(sizes) == 2 and sizes[0] <= SAMPLE_UPLOAD_BYTES < sizes[1] == len(multi_line)
        whole = await whole_file_inference(client, multi_line)
        assert typed(schema.columns) == typed(whole["columns"])
        assert [c.type for c in schema.columns] == ["integer", "string", "string"]
        assert (await client.files.list())["items"] == []
    await http.aclose()


async def test_schema_from_sample_asks_the_server_once_what_it_offers(fresh: Any) -> None:
    transport = Recorder()
    http = httpx.AsyncClient(transport=transport)
    async with connect(fresh, http_client=http) as client:
        dataset = await client.datasets.create(name="asks once")
        offered = await client._extensions()
        await dataset.create_schema_from_sample(PLAIN)
        copy = client.with_options(timeout=30)
        await copy.datasets.schema_versions.create_from_sample(dataset.dataset_id, PLAIN)
        paths = [r.url.path for r in transport.requests]
        assert paths.count("/health") == 1  # copies share what the server said
        served = "/dataset-schema-versions/infer" in paths
        assert served == (EXTENSION_SCHEMA_INFERENCE in offered)
    await http.aclose()


# --- processing ---------------------------------------------------------------------------------


async def test_processing_completes(fresh: Any) -> None:
    async with connect(fresh) as client:
        dataset = await client.datasets.create(name="to process")
        with pytest.raises(ProcessingError, match="not being processed"):
            await dataset.wait_for_processing(**FAST)
        version = await dataset.upload_data(TYPED, file_type="csv")
        schema = await dataset.create_schema_from_sample(TYPED, status="current")
        assert (await dataset.process(**FAST)) is dataset
        assert dataset.processing_status == "completed" and dataset.record_count == 3
        assert dataset.active_data_version_id == version.dataset_data_version_id
        assert dataset.active_data_schema_version_id == schema.dataset_schema_version_id
        assert dataset.processing_report is not None and dataset.processing_report["ok"] is True

        # The resource call and the wait, separately (the 0.2.7 examples' shape).
        queued = await client.datasets.update(dataset.dataset_id, should_process=True)
        assert queued.processing_status in ("in_progress", "completed")
        done = await queued.wait_for_processing(**FAST)
        assert done is queued and done.processing_status == "completed"
        assert (await dataset.process(wait=False)).processing_status == "in_progress"
        await dataset.wait_for_processing(**FAST)


async def test_processing_failure_names_rows_and_columns(fresh: Any) -> None:
    data = b"id,name,amount\n1,Ada,3.5\nx,Grace,abc\n3,,\n"
    async with connect(fresh) as client:
        dataset, version = await dataset_with_schema(client, data)
        with pytest.raises(ProcessingError) as caught:
            await dataset.process(**FAST)
        error = caught.value
        assert error.status == "failed" and error.dataset_id == dataset.dataset_id
        assert error.report is not None and error.report["errorCount"] == 3
        assert error.report["counts"] == {"type_mismatch": 2, "required_blank": 1}
        assert error.report["columnCounts"]["amount"] == {"type_mismatch": 1, "required_blank": 1}
        assert {(e["row"], e["column"], e["kind"]) for e in error.errors} == {
            (2, "id", "type_mismatch"),
            (2, "amount", "type_mismatch"),
            (3, "amount", "required_blank"),
        }
        assert "does not match schema version 1" in error.message
        assert "row 2" in str(error) and "'amount'" in str(error)
        await dataset.refresh()
        assert dataset.processing_status == "failed" and dataset.processing_error
        assert dataset.active_data_version_id is None
        assert await dataset.download_data() == data  # nothing was changed or dropped
        assert (await version.refresh()).status == "current"

        unschemed = await client.datasets.create(name="no schema")
        await unschemed.upload_data(PLAIN, file_type="csv")
        with pytest.raises(ProcessingError, match="no current schema"):
            await unschemed.process(**FAST)
        empty = await client.datasets.create(name="empty")
        with pytest.raises(ProcessingError, match="no current data version"):
            await empty.process(**FAST)


BAD_INPUT: Dict[str, Tuple[bytes, Optional[List[Dict[str, Any]]], str]] = {
    "malformed": (b'id,name,amount\n1,"Ada,3.5\n2,Bob,4\n', None, "malformed_csv"),
    "wrong-delimiter": (b"id;name;amount\n1;Ada;3.5\n2;Bob;4\n", None, "wrong_delimiter"),
    "ragged": (b"id,name,amount\n1,Ada,3.5\n2,Bob,4,extra\n3,Cy\n", None, "ragged_row"),
    "not-utf8": (b"id,name,amount\n1,Ad\xe9,3.5\n2,B\xffob,4\n", None, "encoding"),
    "missing-column": (
        PLAIN,
        [{"name": "id", "type": "int"}, {"name": "region", "type": "string"}],
        "missing_column",
    ),
    "required-blank": (b"id,name,amount\n1,Ada,\n,Bob,4\n", None, "required_blank"),
    "type-mismatch": (b"id,name,amount\n1,Ada,3.5\nx,Bob,abc\n", None, "type_mismatch"),
}


async def test_bad_input_fails_clearly_and_keeps_the_last_good_data(fresh: Any) -> None:
    async with connect(fresh) as client:
        dataset, good = await dataset_with_schema(client, PLAIN)
        await dataset.process(**FAST)
        good_schema = dataset.active_data_schema_version_id
        assert dataset.active_data_version_id == good.dataset_data_version_id
        for case, (data, columns, kind) in BAD_INPUT.items():
            if columns is not None:
                await dataset.create_schema(columns, status="current")
            await dataset.upload_data(data, file_type="csv")
            with pytest.raises(ProcessingError) as caught:
                await dataset.process(**FAST)
            assert caught.value.report is not None, case
            assert kind in caught.value.report["counts"], (case, caught.value.report["counts"])
            assert caught.value.errors and caught.value.message, case
            # The last good run's versions stay the active ones, and their bytes are intact.
            assert dataset.processing_status == "failed"
            assert dataset.active_data_version_id == good.dataset_data_version_id, case
            assert dataset.active_data_schema_version_id == good_schema, case
            if columns is not None:
                await (await dataset.get_schema_version(good_schema or "")).activate()
        assert await good.download() == PLAIN
        assert len(await dataset.list_data_versions(page_size=20)) == 1 + len(BAD_INPUT)


# --- DataFrames -------------------------------------------------------------------------------


async def test_dataframes_need_their_library(fresh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "polars", None)
    transport = Recorder()
    http = httpx.AsyncClient(transport=transport)
    async with connect(fresh, http_client=http) as client:
        dataset = await client.datasets.create(name="frames")
        transport.requests.clear()
        with pytest.raises(ImportError, match="pip install pandas"):
            await dataset.to_pandas()
        with pytest.raises(ImportError, match="pip install polars"):
            await dataset.to_polars()
        assert transport.requests == []
    await http.aclose()


async def test_to_pandas_reads_with_the_schema(fresh: Any) -> None:
    pytest.importorskip("pandas")
    async with connect(fresh) as client:
        dataset = await client.datasets.create(name="pandas")
        first = await dataset.upload_data(PLAIN, file_type="csv")
        await dataset.upload_data(TYPED, file_type="csv")
        await dataset.create_schema_from_sample(TYPED, status="current")
        frame = await dataset.to_pandas()
        assert list(frame.columns) == [
            "id",
            "price",
            "active",
            "day",
            "seen_at",
            "code",
            "label",
            "note",
        ]
        assert frame["id"].tolist() == [1, 2, 3] and str(frame["id"].dtype) == "Int64"
        assert frame["price"].tolist() == [3.5, 4.0, -1.25]
        assert frame["active"].tolist() == [True, False, True]
        assert frame["code"].tolist() == ["007", "012", "100"]  # codes keep their zeros
        assert frame["note"].isna().tolist() == [True, False, True]
        assert str(frame["day"].iloc[1].date()) == "2024-02-29"
        older = await dataset.to_pandas(version_id=first.dataset_data_version_id, dtype=str)
        assert older["name"].tolist() == ["Ada", "Grace"]


async def test_to_polars_reads_with_the_schema(fresh: Any) -> None:
    pytest.importorskip("polars")
    async with connect(fresh) as client:
        dataset = await client.datasets.create(name="polars")
        await dataset.upload_data(TYPED, file_type="csv")
        await dataset.create_schema_from_sample(TYPED, status="current")
        frame = await dataset.to_polars()
        assert frame.columns == ["id", "price", "active", "day", "seen_at", "code", "label", "note"]
        assert frame["id"].to_list() == [1, 2, 3] and frame["active"].to_list() == [
            True,
            False,
            True,
        ]
        assert frame["code"].to_list() == ["007", "012", "100"]
        assert frame["note"].to_list() == [None, "x", None]
        assert str(frame["day"].to_list()[1]) == "2024-02-29"


# --- isolation and compatibility ------------------------------------------------------------------


async def test_another_teams_dataset_is_not_found_everywhere(
    fresh: Any, outsider: Any, tmp_path: Path
) -> None:
    async with connect(outsider) as owner:
        theirs, version = await dataset_with_schema(owner, PLAIN, name=f"private {fresh.team_id}")
        schema = await theirs.get_current_schema()
        assert schema is not None
    async with connect(fresh) as client:
        # Their objects, as if this client had been handed them.
        dataset = client._cast(DatasetAsyncModel, theirs.to_dict())
        their_version = client._cast(DatasetDataVersionAsyncModel, version.to_dict())
        their_schema = client._cast(DatasetSchemaVersionAsyncModel, schema.to_dict())
        dataset_id = theirs.dataset_id
        calls: List[Callable[[], Any]] = [
            lambda: client.datasets.retrieve(dataset_id),
            lambda: client.datasets.update(dataset_id, name="mine"),
            lambda: client.datasets.update(dataset_id, should_process=True),
            lambda: client.datasets.delete(dataset_id),
            lambda: dataset.refresh(),
            lambda: dataset.update(description="mine"),
            lambda: dataset.process(),
            lambda: dataset.wait_for_processing(),
            lambda: dataset.upload_data(PLAIN, file_type="csv"),
            lambda: dataset.download_data(),
            lambda: dataset.download_data(path=tmp_path / "x.csv"),
            lambda: dataset.get_data_version(version.dataset_data_version_id),
            lambda: dataset.create_schema([{"name": "id", "type": "int"}]),
            lambda: dataset.schema_builder().add_column("id", "int").create(),
            lambda: dataset.create_schema_from_sample(PLAIN),
            lambda: dataset.get_schema_version(schema.dataset_schema_version_id),
            lambda: dataset.delete(),
            lambda: their_version.download(),
            lambda: their_version.refresh(),
            lambda: their_schema.refresh(),
            lambda: their_schema.activate(),
            lambda: their_schema.archive(),
            lambda: their_schema.add_column("x", "string"),
            lambda: their_schema.update(parsing_options={"delimiter": ";"}),
        ]
        for index, call in enumerate(calls):
            with pytest.raises(NotFoundError):
                await call()
                pytest.fail(f"call {index} did not raise")
        assert await dataset.list_data_versions() == []
        assert await dataset.list_schema_versions() == []
        assert await dataset.get_current_schema() is None
        assert (await client.datasets.list(dataset_ids=[dataset_id]))["items"] == []
        assert (await client.datasets.list(name=theirs.name))["items"] == []
        assert (await client.files.list())["items"] == []  # the sample upload was cleaned up
    async with connect(outsider) as owner:
        again = await owner.datasets.retrieve(theirs.dataset_id)
        assert again.name == theirs.name and again.description is None
        assert await again.download_data() == PLAIN
        current = await again.get_current_schema()
        assert current is not None and current.version_no == 1 and len(current.columns) == 3
    assert list(tmp_path.iterdir()) == []


async def test_0_2_7_call_forms(fresh: Any, tmp_path: Path) -> None:
    path = tmp_path / "sales_data.csv"
    path.write_bytes(QUOTED)
    async with connect(fresh) as client:
        created = await client.datasets.create(
            name="Customer Data", description="Customer interaction dataset"
        )
        dataset = await client.datasets.retrieve(created["datasetId"])
        version = await dataset.upload_data(file=str(path), file_type="csv", status="current")
        assert f"Uploaded version {version.version_no} with {version.row_count} rows" == (
            "Uploaded version 1 with 3 rows"
        )
        schema = await dataset.create_schema_from_sample(
            sample_file=str(path), status="current", header_row=1
        )
        assert [c["type"] for c in schema.columns] == ["integer", "string", "float"]
        simple = await dataset.create_schema(
            [
                {"name": "user_id", "type": "int", "required": True},
                {"name": "email", "type": "string"},
                {"name": "signup_date", "type": "datetime"},
            ]
        )
        assert [c.to_dict() for c in simple.columns] == [
            {"name": "user_id", "type": "integer", "nullable": False, "pos": 1},
            {"name": "email", "type": "string", "nullable": False, "pos": 2},
            {"name": "signup_date", "type": "datetime", "nullable": False, "pos": 3},
        ]
        fluent = await (
            dataset.schema_builder()
            .add_column("id", "int", required=True)
            .add_column("name", "string", description="User name")
            .with_parsing(delimiter=",", header_row=1)
            .as_current()
            .create()
        )
        assert fluent.is_current and fluent.parsing_config is not None
        await dataset.update(name="Updated Dataset Name", should_process=True)
        assert dataset.processing_status == "in_progress"
        datasets = await client.datasets.list()
        assert datasets["items"][0]["name"] == "Updated Dataset Name"
        versions = await dataset.list_data_versions()
        assert isinstance(versions, list) and versions[0]["versionNo"] == 1
        data_bytes = await dataset.download_data()
        old_data = await dataset.download_data(version_id=versions[0].dataset_data_version_id)
        assert data_bytes == old_data == QUOTED
        await dataset.download_data(path=str(tmp_path / "save" / "local_copy.csv"))
        assert (tmp_path / "save" / "local_copy.csv").read_bytes() == QUOTED
        await dataset.wait_for_processing(**FAST)
        assert f"Dataset has {dataset.record_count} records" == "Dataset has 3 records"
        await dataset.delete()
