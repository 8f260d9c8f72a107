"""Dataset models: a dataset, its data versions and schema versions, and the schema builder."""

import os
import tempfile
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Union, cast

from ... import _io_async
from ..._dataframes import read_pandas, read_polars, require
from ..._datasets import (
    check_processing,
    poll_delay,
    wire_column,
    wire_columns,
    wire_parsing_options,
)
from ..._exceptions import TimeoutError
from ...types.dataset import Dataset, DatasetDataVersion, DatasetSchemaVersion, SchemaColumn
from .._transfer import ProgressCallback

if TYPE_CHECKING:
    from .._client import AsyncBaseClient, AsyncModeratelyAI
    from ..resources.datasets import AsyncDatasets

__all__ = [
    "AsyncSchemaBuilder",
    "DatasetAsyncModel",
    "DatasetDataVersionAsyncModel",
    "DatasetSchemaVersionAsyncModel",
]

PathType = Union[str, "os.PathLike[str]"]
DEFAULT_PROCESSING_TIMEOUT = 300.0
DEFAULT_POLL_INTERVAL = 2.0


def _datasets(client: Any) -> "AsyncDatasets":
    if client is None:
        raise RuntimeError("This object was not returned by a client, so it cannot call the API")
    return cast("AsyncModeratelyAI", client).datasets


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
        return await _datasets(self._client)._download_data(
            self.dataset_data_version_id,
            path=path,
            progress=progress,
            file_hash=self.file_hash,
            file_size=self.file_size_bytes,
        )

    async def refresh(self) -> "DatasetDataVersionAsyncModel":
        """Reload this version from the API; returns this same object.

        Wire: ``GET /dataset-data-versions/{datasetDataVersionId}``
        """
        fresh = await _datasets(self._client)._get_data_version(self.dataset_data_version_id)
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
        fields = {
            "status": status,
            "columns": wire_columns(columns) if columns is not None else None,
            "parsingOptions": wire_parsing_options(parsing_options),
        }
        body = {key: value for key, value in fields.items() if value is not None}
        datasets = _datasets(self._client)
        fresh = await datasets._update_schema_version(self.dataset_schema_version_id, body)
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
        fresh = await _datasets(self._client)._get_schema_version(self.dataset_schema_version_id)
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

    def __init__(self, dataset_id: str, client: "AsyncBaseClient") -> None:
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
        body: Dict[str, Any] = {
            "datasetId": self.dataset_id,
            "columns": list(self.columns),
            "status": self.status,
        }
        if self.parsing_options:
            body["parsingOptions"] = dict(self.parsing_options)
        return await _datasets(self._client)._create_schema_version(body)


class DatasetAsyncModel(Dataset):
    """A dataset with rich operations: data versions, schema versions and processing.

    Attributes: ``dataset_id``, ``name``, ``description``, ``team_id``,
    ``current_data_version_id``, ``current_schema_version_id``, ``active_data_version_id``,
    ``active_data_schema_version_id``, ``processing_status``, ``record_count``,
    ``total_size_bytes``, ``processing_error``, ``processing_report``, ``created_at``,
    ``updated_at``; wire keys work too (``dataset["datasetId"]``).
    """

    @property
    def _datasets(self) -> "AsyncDatasets":
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
        version = await self._datasets._upload_data(
            self.dataset_id,
            file,
            file_type=file_type,
            status=status,
            progress=progress,
            extra=kwargs,
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
        return await self._datasets._download_data(target, path=path, progress=progress)

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
        return await self._datasets._list_data_versions(
            self.dataset_id, page=page, page_size=page_size, status=status
        )

    async def get_data_version(self, version_id: str) -> DatasetDataVersionAsyncModel:
        """One data version by ID.

        Raises:
            NotFoundError: If it doesn't exist.

        Wire: ``GET /dataset-data-versions/{datasetDataVersionId}``
        """
        return await self._datasets._get_data_version(version_id)

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
        body: Dict[str, Any] = {
            "datasetId": self.dataset_id,
            "columns": wire_columns(columns),
            "status": status,
        }
        options = wire_parsing_options(parsing_options)
        if options:
            body["parsingOptions"] = options
        return await self._new_schema(body)

    async def create_schema_from_sample(
        self,
        sample_file: Any,
        *,
        status: str = "draft",
        header_row: int = 1,
        sample_size: int = 100,
        parsing_options: Optional[Dict[str, Any]] = None,
    ) -> DatasetSchemaVersionAsyncModel:
        """Create a schema version inferred by the server from a sample of the data.

        Types come from the values (``integer``, ``float``, ``boolean``, ``date``,
        ``datetime``, else ``string``; codes with leading zeros stay strings), columns are
        nullable where the sample has blanks, and the delimiter and encoding are sniffed. The
        sample is uploaded as a temporary file and deleted afterwards.

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

        Wire: ``POST /files/upload-url``, ``PUT <uploadUrl>``, ``POST /files/{fileId}/complete``,
        ``POST /dataset-schema-versions/infer``, ``DELETE /files/{fileId}``,
        ``POST /dataset-schema-versions``
        """
        inferred = await self._datasets._infer_schema(
            sample_file,
            header_row=header_row,
            sample_size=sample_size,
            parsing_options=parsing_options,
        )
        if not inferred["columns"]:
            raise ValueError("The sample has no header row to take column names from")
        body: Dict[str, Any] = {
            "datasetId": self.dataset_id,
            "columns": inferred["columns"],
            "status": status,
        }
        if isinstance(inferred.get("parsingOptions"), dict):
            body["parsingOptions"] = inferred["parsingOptions"]
        return await self._new_schema(body)

    def schema_builder(self) -> AsyncSchemaBuilder:
        """A builder for a schema version of this dataset (``add_column``, ``with_parsing``,
        ``as_current``, ``create``)."""
        return AsyncSchemaBuilder(self.dataset_id, self._client)

    async def _new_schema(self, body: Dict[str, Any]) -> DatasetSchemaVersionAsyncModel:
        schema = await self._datasets._create_schema_version(body)
        if schema.status == "current":
            await self.refresh()
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
        return await self._datasets._list_schema_versions(
            self.dataset_id, status=status, page=page, page_size=page_size
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
        return await self._datasets._get_schema_version(schema_version_id)

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
