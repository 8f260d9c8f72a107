"""Dataset models: a dataset, its data versions and schema versions, and the schema builder."""

import os
import tempfile
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Union, cast

from typing_extensions import Protocol

from ... import _io_async
from ..._dataframes import read_pandas, read_polars, require
from ..._datasets import check_processing, poll_delay, wire_column
from ..._exceptions import TimeoutError
from ...types.dataset import Dataset, DatasetDataVersion, DatasetSchemaVersion, SchemaColumn
from .._pagination import AsyncPage
from .._streams import PathType, ProgressCallback

__all__ = [
    "AsyncSchemaBuilder",
    "DataVersionsAPI",
    "DatasetAsyncModel",
    "DatasetDataVersionAsyncModel",
    "DatasetSchemaVersionAsyncModel",
    "DatasetsAPI",
    "DatasetsClient",
    "SchemaVersionsAPI",
]

DEFAULT_PROCESSING_TIMEOUT = 300.0
DEFAULT_POLL_INTERVAL = 2.0


def _datasets(client: Any) -> "DatasetsAPI":
    if client is None:
        raise RuntimeError("This object was not returned by a client, so it cannot call the API")
    return cast(DatasetsClient, client).datasets


class DatasetDataVersionAsyncModel(DatasetDataVersion):
    """One uploaded file of a dataset.

    Attributes: ``dataset_data_version_id``, ``dataset_id``, ``version_no``, ``status``
    (``draft``, ``current`` or ``archived``), ``file_type``, ``file_name``, ``file_hash``,
    ``file_size_bytes``, ``row_count`` (counted by the server), ``upload_status``,
    ``created_at``, ``updated_at``; wire keys work too (``version["versionNo"]``).
    """

    async def download(
        self, *, path: Optional[PathType] = None, progress: Optional[ProgressCallback] = None
    ) -> Optional[bytes]:
        """Download this version's bytes, checked against its size and SHA-256.

        Args:
            path: Write them to this file (parent folders are created; a temporary file beside
                it is renamed into place once complete and verified) and return ``None``.
                Without it, return the bytes.
            progress: Called as ``progress(bytes_done, total)`` while the bytes arrive.

        Raises:
            ValidationError: If the upload of this version did not complete.
            NotFoundError: If the version (or its dataset) no longer exists.

        Wire: ``GET /dataset-data-versions/{dataVersionId}/download``, then ``GET <downloadUrl>``
        """
        return await _datasets(self._client).data_versions.download(
            self.dataset_data_version_id, path=path, progress=progress, file_hash=self.file_hash
        )

    async def refresh(self) -> "DatasetDataVersionAsyncModel":
        """Reload this version from the API; returns this same object.

        Wire: ``GET /dataset-data-versions/{datasetDataVersionId}``
        """
        versions = _datasets(self._client).data_versions
        fresh = await versions.retrieve(self.dataset_data_version_id)
        self._replace_with(fresh)
        return self


class DatasetSchemaVersionAsyncModel(DatasetSchemaVersion):
    """Columns and parsing options of a dataset, numbered per dataset.

    Attributes: ``dataset_schema_version_id``, ``dataset_id``, ``version_no``, ``columns``
    (``SchemaColumn`` objects: ``name``, ``type``, ``nullable``/``required``, ``pos``,
    ``description``, ...), ``status``, ``is_current``, ``parsing_options`` (``delimiter``,
    ``header_row``, ``skip_rows``, ``encoding``; ``parsing_config`` is an alias),
    ``created_at``, ``updated_at``; wire keys work too (``schema["columnsJson"]``).
    """

    async def activate(self) -> "DatasetSchemaVersionAsyncModel":
        """Make this the dataset's current schema (the previous current one is archived).

        Wire: ``PATCH /dataset-schema-versions/{datasetSchemaVersionId}``
        """
        return await self.update(status="current")

    async def archive(self) -> "DatasetSchemaVersionAsyncModel":
        """Archive this schema version (if it was current, the dataset has none afterwards).

        Wire: ``PATCH /dataset-schema-versions/{datasetSchemaVersionId}``
        """
        return await self.update(status="archived")

    async def update(
        self,
        *,
        status: Optional[str] = None,
        columns: Optional[Sequence[Any]] = None,
        parsing_options: Optional[Dict[str, Any]] = None,
    ) -> "DatasetSchemaVersionAsyncModel":
        """Change the status, the columns or the parsing options; returns this same object,
        updated from the answer.

        Args:
            status: "draft", "current" or "archived".
            columns: The whole new column list (dicts as for ``create_schema``, or columns of a
                schema version).
            parsing_options: New parsing options (snake_case or camelCase keys).

        Raises:
            ValueError: If a column has no name or type (before any request).
            ValidationError: If the server refuses a column or an option.

        Wire: ``PATCH /dataset-schema-versions/{datasetSchemaVersionId}``
        """
        fresh = await _datasets(self._client).schema_versions.update(
            self.dataset_schema_version_id,
            status=status,
            columns=columns,
            parsing_options=parsing_options,
        )
        self._replace_with(fresh)
        return self

    async def add_column(
        self,
        name: str,
        column_type: Any,
        *,
        required: bool = True,
        description: Optional[str] = None,
        position: Optional[int] = None,
        **kwargs: Any,
    ) -> "DatasetSchemaVersionAsyncModel":
        """Add a column (at the end, or at the 1-based ``position``) and save the column list;
        positions are renumbered 1..n.

        Args:
            name: Column name.
            column_type: "string", "int"/"integer", "float", "bool"/"boolean", "date",
                "datetime", ... (or the Python type: ``int``, ``str``, ...).
            required: Whether blanks are refused (``nullable = not required``).
            description: Free text.
            position: 1-based place in the list; default: last.
            **kwargs: Other column keys (``operations``, ``source``, ...).

        Wire: ``PATCH /dataset-schema-versions/{datasetSchemaVersionId}``
        """
        columns: List[Any] = [column.to_dict() for column in self.columns]
        new = {"name": name, "type": column_type, "required": required, **kwargs}
        new["description"] = description
        index = len(columns) if position is None else max(position - 1, 0)
        columns.insert(index, new)
        return await self.update(columns=_renumbered(columns))

    async def remove_column(self, name: str) -> "DatasetSchemaVersionAsyncModel":
        """Remove every column of that name and save the column list (renumbered 1..n).

        Raises:
            ValueError: If there is no such column (before any request).

        Wire: ``PATCH /dataset-schema-versions/{datasetSchemaVersionId}``
        """
        kept = [column.to_dict() for column in self.columns if column.name != name]
        if len(kept) == len(self.columns):
            raise ValueError(f"Schema version {self.version_no} has no column {name!r}")
        return await self.update(columns=_renumbered(kept))

    def get_column(self, name: str) -> Optional[SchemaColumn]:
        """The column of that name, or ``None``."""
        return next((column for column in self.columns if column.name == name), None)

    async def refresh(self) -> "DatasetSchemaVersionAsyncModel":
        """Reload this schema version from the API; returns this same object.

        Wire: ``GET /dataset-schema-versions/{datasetSchemaVersionId}``
        """
        versions = _datasets(self._client).schema_versions
        fresh = await versions.retrieve(self.dataset_schema_version_id)
        self._replace_with(fresh)
        return self


def _renumbered(columns: List[Any]) -> List[Dict[str, Any]]:
    return [{**column, "pos": index} for index, column in enumerate(columns, start=1)]


class AsyncSchemaBuilder:
    """Builds a schema version step by step (``dataset.schema_builder()``).

    Example::

        schema = await (
            dataset.schema_builder()
            .add_column("id", "int", required=True)
            .add_column("name", "string", description="User name", required=False)
            .with_parsing(delimiter=",", header_row=1)
            .as_current()
            .create()
        )
    """

    def __init__(self, dataset_id: str, client: "DatasetsClient") -> None:
        self.dataset_id = dataset_id
        self.columns: List[Dict[str, Any]] = []
        self.parsing_options: Dict[str, Any] = {}
        self.status = "draft"
        self._client = client

    def add_column(
        self,
        name: str,
        column_type: Any,
        *,
        required: bool = True,
        description: Optional[str] = None,
        operations: Optional[List[Dict[str, Any]]] = None,
        **kwargs: Any,
    ) -> "AsyncSchemaBuilder":
        """Append a column (``type`` mapped as in ``create_schema``: ``int`` -> ``integer``,
        ...; ``nullable = not required``); other keys pass through. Returns the builder."""
        column = {
            "name": name,
            "type": column_type,
            "required": required,
            **kwargs,
            "description": description,
            "operations": operations,
        }
        self.columns.append(wire_column(column, len(self.columns) + 1))
        return self

    def with_parsing(
        self,
        *,
        skip_rows: Union[int, List[int], None] = None,
        header_row: Optional[int] = None,
        delimiter: Optional[str] = None,
        encoding: Optional[str] = None,
    ) -> "AsyncSchemaBuilder":
        """Set how the data is read (only the options given). Returns the builder."""
        given = {
            "skipRows": skip_rows,
            "headerRow": header_row,
            "delimiter": delimiter,
            "encoding": encoding,
        }
        self.parsing_options.update((k, v) for k, v in given.items() if v is not None)
        return self

    def as_draft(self) -> "AsyncSchemaBuilder":
        """Create the version as a draft (the default). Returns the builder."""
        self.status = "draft"
        return self

    def as_current(self) -> "AsyncSchemaBuilder":
        """Create the version as the dataset's current schema. Returns the builder."""
        self.status = "current"
        return self

    async def create(self) -> DatasetSchemaVersionAsyncModel:
        """Create the schema version.

        Raises:
            ValueError: If no column was added (before any request).
            ValidationError: If the server refuses a column or an option.

        Wire: ``POST /dataset-schema-versions``
        """
        if not self.columns:
            raise ValueError("Add at least one column before create()")
        return await _datasets(self._client).schema_versions.create(
            dataset_id=self.dataset_id,
            columns=list(self.columns),
            status=self.status,
            parsing_options=dict(self.parsing_options) or None,
        )


class DatasetAsyncModel(Dataset):
    """A dataset with rich operations: data versions, schema versions and processing.

    Attributes: ``dataset_id``, ``name``, ``description``, ``team_id``,
    ``current_data_version_id``, ``current_schema_version_id``, ``active_data_version_id``,
    ``active_data_schema_version_id``, ``processing_status``, ``record_count``,
    ``total_size_bytes``, ``processing_error``, ``processing_report``, ``created_at``,
    ``updated_at``; wire keys work too (``dataset["datasetId"]``).
    """

    @property
    def _datasets(self) -> "DatasetsAPI":
        return _datasets(self._client)

    # --- data versions ------------------------------------------------------------------------

    async def upload_data(
        self,
        file: Any,
        *,
        file_type: Optional[str] = None,
        status: str = "current",
        progress: Optional[ProgressCallback] = None,
        **kwargs: Any,
    ) -> DatasetDataVersionAsyncModel:
        """Upload a new data version, streamed and SHA-256 verified like files.

        The server counts the rows itself (quoted line breaks, BOM, no final newline) and
        returns them as ``row_count``. A version uploaded as ``current`` becomes the current
        data (the previous one is archived) and this object is refreshed to show it.

        Args:
            file: A path (str or Path), bytes, a binary file object, or (async client) an
                object with ``async def read(n)``.
            file_type: "csv" (any delimited text; the schema's parsing options say how to read
                it) or "xlsx". Default: from the extension (.csv, .tsv, .txt -> csv; .xlsx,
                .xls -> xlsx), else from the content.
            status: "current" (default) or "draft" (changes nothing on the dataset).
            progress: Called as ``progress(bytes_sent, total)`` while the bytes go out.
            **kwargs: ``filename=`` names bytes or an unnamed stream (default
                "uploaded_data"); ``file_hash=`` (a SHA-256 you computed already) saves the
                hashing pass; other fields go to the create request with camelCase keys.

        Returns:
            The completed data version (``version_no``, ``row_count``, ``file_hash``, ...).

        Raises:
            ValueError: If the path does not exist (also a ``FileNotFoundError``) or the type
                cannot be told; before any request.
            ValidationError: If the server refuses the version or the stored bytes do not
                match what was declared.

        Wire: ``POST /dataset-data-versions``, ``PUT <uploadUrl>``,
        ``POST /dataset-data-versions/{dataVersionId}/complete``
        """
        version = await self._datasets.data_versions.upload(
            self.dataset_id, file, file_type=file_type, status=status, progress=progress, **kwargs
        )
        if version.status == "current":
            await self.refresh()
        return version

    async def download_data(
        self,
        *,
        version_id: Optional[str] = None,
        path: Optional[PathType] = None,
        progress: Optional[ProgressCallback] = None,
    ) -> Optional[bytes]:
        """Download a data version: the current one (refreshed first if this object knows of
        none), or ``version_id``; checked against its size and SHA-256.

        Args:
            version_id: The data version to download; default: the current one.
            path: Write the bytes to this file (a temporary file beside it is renamed into
                place once verified) and return ``None``. Without it, return the bytes.
            progress: Called as ``progress(bytes_done, total)`` while the bytes arrive.

        Raises:
            ValueError: If the dataset has no current data version and no ``version_id`` is
                given.
            NotFoundError: If the version doesn't exist.

        Wire: ``GET /dataset-data-versions/{datasetDataVersionId}``,
        ``GET /dataset-data-versions/{dataVersionId}/download``, then ``GET <downloadUrl>``
        """
        target = version_id or self.current_data_version_id
        if target is None:
            await self.refresh()
            target = self.current_data_version_id
        if target is None:
            raise ValueError(
                f"Dataset {self.dataset_id} has no current data version: upload data first, "
                "or pass version_id="
            )
        return await self._datasets.data_versions.download(target, path=path, progress=progress)

    async def list_data_versions(
        self, *, page: int = 1, page_size: int = 10, status: Optional[str] = None
    ) -> List[DatasetDataVersionAsyncModel]:
        """This dataset's data versions, newest first (one page).

        Args:
            page: Page number (1-based). Defaults to 1.
            page_size: Versions per page (1-1000). Defaults to 10.
            status: Only versions in this status ("draft", "current" or "archived").

        Wire: ``GET /dataset-data-versions?datasetIds=<id>&orderBy=versionNo&orderDirection=desc``
        """
        found = await self._datasets.data_versions.list(
            dataset_ids=[self.dataset_id],
            status=status,
            page=page,
            page_size=page_size,
            order_by="versionNo",
            order_direction="desc",
        )
        return found.data

    async def get_data_version(self, version_id: str) -> DatasetDataVersionAsyncModel:
        """One data version by ID.

        Raises:
            NotFoundError: If it doesn't exist.

        Wire: ``GET /dataset-data-versions/{datasetDataVersionId}``
        """
        return await self._datasets.data_versions.retrieve(version_id)

    # --- schema versions ----------------------------------------------------------------------

    async def create_schema(
        self,
        columns: Sequence[Any],
        *,
        status: str = "draft",
        parsing_options: Optional[Dict[str, Any]] = None,
    ) -> DatasetSchemaVersionAsyncModel:
        """Create a schema version from column dicts.

        Args:
            columns: Dicts with ``name`` and ``type`` (``int`` -> ``integer``, ``str`` ->
                ``string``, ``bool`` -> ``boolean``, ``date``/``datetime`` -> ``datetime``;
                ``float``, ``string``, ``time``... as they are), optional ``required``
                (default ``True``; sent as ``nullable = not required``), ``description``, and
                any other column key (``operations``, ``source``...).
            status: "draft" (default), "current" (becomes the dataset's current schema; this
                object is refreshed) or "archived".
            parsing_options: ``delimiter``, ``header_row``, ``skip_rows``, ``encoding``
                (snake_case or camelCase keys).

        Raises:
            ValueError: If a column has no name or type, or there is none (before any request).
            ValidationError: If the server refuses a column or an option.

        Wire: ``POST /dataset-schema-versions``
        """
        schema = await self._datasets.schema_versions.create(
            dataset_id=self.dataset_id,
            columns=columns,
            status=status,
            parsing_options=parsing_options,
        )
        return await self._refreshed_if_current(schema)

    async def create_schema_from_sample(
        self,
        sample_file: Any,
        *,
        status: str = "draft",
        header_row: int = 1,
        sample_size: int = 100,
        parsing_options: Optional[Dict[str, Any]] = None,
    ) -> DatasetSchemaVersionAsyncModel:
        """Create a schema version with the columns of a sample of the data (see
        ``client.datasets.schema_versions.create_from_sample``).

        Names come from the header, types from the values (``integer``, ``float``,
        ``boolean``, ``date``, ``datetime``, else ``string``; codes with leading zeros stay
        strings), columns are nullable where the sample has blanks, and the delimiter is
        sniffed. A server that infers schemas reads the sample itself (uploaded as a temporary
        file, deleted afterwards); otherwise the first records are read here.

        Args:
            sample_file: A path, bytes or a binary file object (CSV, TSV or other delimited
                text).
            status: "draft" (default), "current" (this object is refreshed) or "archived".
            header_row: 1-based line of the header.
            sample_size: Records read to infer the types.
            parsing_options: How to read the sample when sniffing is not enough
                (``delimiter``, ``skip_rows``, ``encoding``...).

        Raises:
            ValueError: If the path does not exist, or the sample has no header.
            ValidationError: If the server cannot read the sample.

        Wire: ``GET /health`` (once per client), with server inference ``POST
        /files/upload-url``, ``PUT <uploadUrl>``, ``POST /files/{fileId}/complete``,
        ``POST /dataset-schema-versions/infer``, ``DELETE /files/{fileId}``; then
        ``POST /dataset-schema-versions``
        """
        schema = await self._datasets.schema_versions.create_from_sample(
            self.dataset_id,
            sample_file,
            status=status,
            header_row=header_row,
            sample_size=sample_size,
            parsing_options=parsing_options,
        )
        return await self._refreshed_if_current(schema)

    def schema_builder(self) -> AsyncSchemaBuilder:
        """A builder for a schema version of this dataset (``add_column``, ``with_parsing``,
        ``as_current``, ``create``)."""
        return AsyncSchemaBuilder(self.dataset_id, self._client)

    async def _refreshed_if_current(
        self, schema: DatasetSchemaVersionAsyncModel
    ) -> DatasetSchemaVersionAsyncModel:
        if schema.status == "current":
            await self.refresh()  # the dataset now points at it
        return schema

    async def list_schema_versions(
        self, *, status: Optional[str] = None, page: int = 1, page_size: int = 10
    ) -> List[DatasetSchemaVersionAsyncModel]:
        """This dataset's schema versions, newest first (one page).

        Args:
            status: Only versions in this status ("draft", "current" or "archived").
            page: Page number (1-based). Defaults to 1.
            page_size: Versions per page (1-1000). Defaults to 10.

        Wire: ``GET /dataset-schema-versions?datasetIds=<id>&orderBy=createdAt&orderDirection=desc``
        """
        return await self._datasets.schema_versions.list(
            dataset_ids=[self.dataset_id],
            status=status,
            page=page,
            page_size=page_size,
            order_by="createdAt",
            order_direction="desc",
        )

    async def get_current_schema(self) -> Optional[DatasetSchemaVersionAsyncModel]:
        """The current schema version, or ``None``.

        Wire: ``GET /dataset-schema-versions?datasetIds=<id>&status=current&pageSize=1``
        """
        found = await self.list_schema_versions(status="current", page_size=1)
        return found[0] if found else None

    async def get_schema_version(self, schema_version_id: str) -> DatasetSchemaVersionAsyncModel:
        """One schema version by ID.

        Raises:
            NotFoundError: If it doesn't exist.

        Wire: ``GET /dataset-schema-versions/{datasetSchemaVersionId}``
        """
        return await self._datasets.schema_versions.retrieve(schema_version_id)

    # --- the dataset itself ------------------------------------------------------------------

    async def update(
        self,
        *,
        name: Optional[str] = None,
        description: Optional[str] = None,
        should_process: Optional[bool] = None,
        **kwargs: Any,
    ) -> "DatasetAsyncModel":
        """Update only the given fields; returns this same object, updated from the answer.

        Args:
            name: New name.
            description: New description.
            should_process: ``True`` queues processing (see ``process`` and
                ``wait_for_processing``).
            **kwargs: Other fields, sent with camelCase keys.

        Wire: ``PATCH /datasets/{datasetId}``
        """
        fresh = await self._datasets.update(
            self.dataset_id,
            name=name,
            description=description,
            should_process=should_process,
            **kwargs,
        )
        self._replace_with(fresh)
        return self

    async def delete(self) -> None:
        """Delete the dataset with its versions and stored data.

        Wire: ``DELETE /datasets/{datasetId}``
        """
        await self._datasets.delete(self.dataset_id)

    async def refresh(self) -> "DatasetAsyncModel":
        """Reload this dataset from the API; returns this same object.

        Wire: ``GET /datasets/{datasetId}``
        """
        self._replace_with(await self._datasets.retrieve(self.dataset_id))
        return self

    # --- DataFrames (pandas / polars, when installed) -----------------------------------------

    async def to_pandas(self, *, version_id: Optional[str] = None, **kwargs: Any) -> Any:
        """The data as a ``pandas.DataFrame`` (pandas is not an SDK dependency: install it).

        The file is read as the server reads it, with the current schema: its parsing options,
        only blank fields as missing, and each column converted by its type (``integer`` ->
        ``Int64``, ``float``, ``boolean``, ``date``/``datetime`` -> datetimes; ``string`` stays
        text, so codes keep their leading zeros).

        Args:
            version_id: The data version to read; default: the current one.
            **kwargs: Passed to ``pandas.read_csv`` last (``dtype=`` turns the conversions off).

        Raises:
            ImportError: If pandas is not installed (before any request).

        Wire: ``GET /dataset-schema-versions?datasetIds=<id>&status=current``, then as
        ``download_data``
        """
        return await self._frame("pandas", read_pandas, version_id, kwargs)

    async def to_polars(self, *, version_id: Optional[str] = None, **kwargs: Any) -> Any:
        """The data as a ``polars.DataFrame`` (polars is not an SDK dependency: install it).

        Read and converted like ``to_pandas`` (``Int64``, ``Float64``, ``Boolean``, ``Date``,
        UTC ``Datetime``, text), except that a ``skip_rows`` list is refused.

        Args:
            version_id: The data version to read; default: the current one.
            **kwargs: Passed to ``polars.read_csv`` last (``schema_overrides=`` turns the
                conversions off).

        Raises:
            ImportError: If polars is not installed (before any request).

        Wire: ``GET /dataset-schema-versions?datasetIds=<id>&status=current``, then as
        ``download_data``
        """
        return await self._frame("polars", read_polars, version_id, kwargs)

    async def _frame(
        self,
        module: str,
        reader: Callable[..., Any],
        version_id: Optional[str],
        overrides: Dict[str, Any],
    ) -> Any:
        require(module, f"to_{module}")
        schema = await self.get_current_schema()
        with tempfile.TemporaryDirectory(prefix="moderatelyai-") as scratch:
            path = os.path.join(scratch, "data")
            await self.download_data(version_id=version_id, path=path)
            return await _io_async.run_blocking(reader, path, schema, overrides)

    # --- processing ---------------------------------------------------------------------------

    async def process(
        self,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_PROCESSING_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> "DatasetAsyncModel":
        """Process the current data version with the current schema: every record is counted
        and every value checked against its column's type and ``required``.

        Args:
            wait: Wait until processing ends (default), else return once it is queued.
            timeout: Seconds to wait at most.
            poll_interval: Longest pause between two polls (the first ones are shorter).

        Returns:
            This same object (``processing_status``, ``record_count`` up to date).

        Raises:
            ProcessingError: If processing failed (``report`` names rows and columns).
            TimeoutError: If it still runs after ``timeout`` seconds.

        Wire: ``PATCH /datasets/{datasetId}`` ``{"shouldProcess": true}``, then
        ``GET /datasets/{datasetId}`` until done
        """
        await self.update(should_process=True)
        if wait:
            await self.wait_for_processing(timeout=timeout, poll_interval=poll_interval)
        return self

    async def wait_for_processing(
        self,
        *,
        timeout: float = DEFAULT_PROCESSING_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> "DatasetAsyncModel":
        """Wait until processing completes; returns this same object, refreshed.

        Args:
            timeout: Seconds to wait at most.
            poll_interval: Longest pause between two polls (the first ones are shorter).

        Raises:
            ProcessingError: If processing failed (``message`` is the server's reason,
                ``report`` its error report naming rows and columns), or nothing is being
                processed (never requested, or the data or schema changed since).
            TimeoutError: If it still runs after ``timeout`` seconds.

        Wire: ``GET /datasets/{datasetId}`` until ``processingStatus`` is ``completed`` or
        ``failed``
        """
        deadline = time.monotonic() + timeout
        attempt = 0
        while True:
            await self.refresh()
            status = self.processing_status
            report = self.processing_report
            if check_processing(self.dataset_id, status, self.processing_error, report):
                return self
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"Dataset {self.dataset_id} is still {status} after {timeout:g} s of waiting"
                )
            await _io_async.sleep(min(poll_delay(attempt, poll_interval), remaining))
            attempt += 1


# --- what the models call: the client's dataset resources, typed here rather than imported (the
# resources import these models; a protocol keeps the import graph acyclic) --------------------

_DataVersionPage = AsyncPage[DatasetDataVersionAsyncModel]


class DataVersionsAPI(Protocol):
    """The calls of ``client.datasets.data_versions`` the models make."""

    def list(
        self,
        *,
        dataset_ids: Optional[List[str]] = None,
        status: Optional[str] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: str = "createdAt",
        order_direction: str = "desc",
    ) -> Awaitable[_DataVersionPage]: ...

    async def retrieve(self, data_version_id: str) -> DatasetDataVersionAsyncModel: ...

    async def upload(
        self,
        dataset_id: str,
        file: Any,
        *,
        file_type: Optional[str] = None,
        status: str = "current",
        progress: Optional[ProgressCallback] = None,
        **kwargs: Any,
    ) -> DatasetDataVersionAsyncModel: ...

    async def download(
        self,
        data_version_id: str,
        *,
        path: Optional[PathType] = None,
        progress: Optional[ProgressCallback] = None,
        file_hash: Optional[str] = None,
    ) -> Optional[bytes]: ...


class SchemaVersionsAPI(Protocol):
    """The calls of ``client.datasets.schema_versions`` the models make."""

    async def list(
        self,
        *,
        dataset_ids: Optional[List[str]] = None,
        status: Optional[str] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: str = "createdAt",
        order_direction: str = "desc",
    ) -> List[DatasetSchemaVersionAsyncModel]: ...

    async def retrieve(self, schema_version_id: str) -> DatasetSchemaVersionAsyncModel: ...

    async def create(
        self,
        *,
        dataset_id: str,
        columns: Sequence[Any],
        status: str = "draft",
        parsing_options: Optional[Dict[str, Any]] = None,
    ) -> DatasetSchemaVersionAsyncModel: ...

    async def update(
        self,
        schema_version_id: str,
        *,
        status: Optional[str] = None,
        columns: Optional[Sequence[Any]] = None,
        parsing_options: Optional[Dict[str, Any]] = None,
    ) -> DatasetSchemaVersionAsyncModel: ...

    async def create_from_sample(
        self,
        dataset_id: str,
        sample: Any,
        *,
        status: str = "draft",
        header_row: int = 1,
        sample_size: int = 100,
        parsing_options: Optional[Dict[str, Any]] = None,
    ) -> DatasetSchemaVersionAsyncModel: ...


class DatasetsAPI(Protocol):
    """The calls of ``client.datasets`` the models make."""

    @property
    def data_versions(self) -> DataVersionsAPI: ...

    @property
    def schema_versions(self) -> SchemaVersionsAPI: ...

    async def retrieve(self, dataset_id: str) -> DatasetAsyncModel: ...

    async def update(
        self,
        dataset_id: str,
        *,
        name: Optional[str] = None,
        description: Optional[str] = None,
        should_process: Optional[bool] = None,
        **kwargs: Any,
    ) -> DatasetAsyncModel: ...

    async def delete(self, dataset_id: str) -> None: ...


class DatasetsClient(Protocol):
    """A client, as far as the dataset models and ``AsyncSchemaBuilder`` use it."""

    @property
    def datasets(self) -> DatasetsAPI: ...
