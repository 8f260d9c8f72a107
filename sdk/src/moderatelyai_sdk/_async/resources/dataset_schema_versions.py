"""Dataset schema versions resource: schema versions by ID, across datasets (the 0.2.7 module
``moderatelyai_sdk.resources.dataset_schema_versions``; also ``client.datasets.schema_versions``).
A dataset's own methods (``create_schema``, ``list_schema_versions``, ...) make the same calls for
one dataset."""

import contextlib
import os
from typing import Any, Dict, List, Optional, Sequence

from typing_extensions import Unpack

from ... import _io_async
from ..._base_client import (
    EXTENSION_SCHEMA_INFERENCE,
    RequestOptions,
    cleanup_options,
    list_query,
    lookup_options,
    make_body,
    path_param,
    split_options,
)
from ..._datasets import (
    SAMPLE_BYTES,
    SAMPLE_UPLOAD_BYTES,
    infer_sample_schema,
    sample_head,
    wire_columns,
    wire_parsing_options,
)
from ..._exceptions import APIError
from ..._files import upload_name
from .._resource import AsyncBaseResource
from .._streams import read_head
from ..models.dataset import DatasetSchemaVersionAsyncModel
from .files import AsyncFiles

__all__ = ["AsyncDatasetSchemaVersions"]

_PATH = "/dataset-schema-versions"


class AsyncDatasetSchemaVersions(AsyncBaseResource):
    """Manage dataset schema versions (columns and parsing options, numbered per dataset).

    Example::

        schema = await client.datasets.schema_versions.create(
            dataset_id=dataset.dataset_id,
            columns=[{"name": "id", "type": "int"}, {"name": "email", "type": "string"}],
            status="current",
        )
        drafts = await client.datasets.schema_versions.list(
            dataset_ids=[dataset.dataset_id], status="draft"
        )
        inferred = await client.datasets.schema_versions.create_from_sample(
            dataset.dataset_id, "sample.csv"
        )
    """

    async def list(
        self,
        *,
        dataset_ids: Optional[List[str]] = None,
        dataset_schema_version_ids: Optional[List[str]] = None,
        status: Optional[str] = None,
        version_no: Optional[int] = None,
        page: int = 1,
        page_size: int = 10,
        order_by: str = "createdAt",
        order_direction: str = "desc",
        **options: Unpack[RequestOptions],
    ) -> List[DatasetSchemaVersionAsyncModel]:
        """One page of schema versions of the team's datasets, newest first by default, as a
        list (as 0.2.7's resource answered).

        Args:
            dataset_ids: Only versions of these datasets.
            dataset_schema_version_ids: Only these versions.
            status: Only versions in this status ("draft", "current" or "archived").
            version_no: Only versions with this number.
            page: Page number (1-based). Defaults to 1.
            page_size: Versions per page (1-1000). Defaults to 10.
            order_by: "createdAt", "updatedAt" or "versionNo". Defaults to "createdAt".
            order_direction: "asc" or "desc". Defaults to "desc".
            **options: Request options (``timeout``, ``max_retries``, ``extra_headers``, ...).

        Wire: ``GET /dataset-schema-versions``
        """
        query = list_query(
            page=page,
            page_size=page_size,
            order_by=order_by,
            order_direction=order_direction,
            datasetIds=dataset_ids,
            datasetSchemaVersionIds=dataset_schema_version_ids,
            status=status,
            versionNo=version_no,
        )
        model = DatasetSchemaVersionAsyncModel
        found = await self._get_page(_PATH, model, query=query, options=options)
        return found.data

    async def retrieve(
        self, schema_version_id: str, **options: Unpack[RequestOptions]
    ) -> DatasetSchemaVersionAsyncModel:
        """One schema version by ID.

        Args:
            schema_version_id: The version's ID (``dataset_schema_version_id``).
            **options: Request options (``timeout``, ``max_retries``, ``extra_headers``, ...).

        Raises:
            NotFoundError: If it doesn't exist (or belongs to another team).

        Wire: ``GET /dataset-schema-versions/{datasetSchemaVersionId}``
        """
        path = _schema_path(schema_version_id)
        return await self._get(path, DatasetSchemaVersionAsyncModel, options=options)

    async def create(
        self,
        *,
        dataset_id: str,
        columns: Sequence[Any],
        status: str = "draft",
        parsing_options: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> DatasetSchemaVersionAsyncModel:
        """Create a schema version of a dataset.

        Args:
            dataset_id: The dataset.
            columns: Column dicts as for ``DatasetModel.create_schema`` (``name``, ``type``,
                optional ``required``, ``description``, ...).
            status: "draft" (default), "current" (the previous current one is archived) or
                "archived".
            parsing_options: ``delimiter``, ``header_row``, ``skip_rows``, ``encoding``.
            **kwargs: Request options (``timeout``, ``idempotency_key``, ...); other fields,
                sent with camelCase keys.

        Raises:
            ValueError: If a column has no name or type, or there is none (before any request).
            ValidationError: If the server refuses a column or an option.
            NotFoundError: If the dataset doesn't exist.

        Wire: ``POST /dataset-schema-versions``
        """
        options, kwargs = split_options(kwargs)
        fields = {
            "datasetId": dataset_id,
            "columns": wire_columns(columns),
            "status": status,
            "parsingOptions": wire_parsing_options(parsing_options) or None,
        }
        body = make_body(fields, kwargs)
        return await self._post(_PATH, DatasetSchemaVersionAsyncModel, body=body, options=options)

    async def update(
        self,
        schema_version_id: str,
        *,
        status: Optional[str] = None,
        columns: Optional[Sequence[Any]] = None,
        parsing_options: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> DatasetSchemaVersionAsyncModel:
        """Change a schema version's status, columns or parsing options (only what is given).

        Args:
            schema_version_id: The version to change.
            status: "draft", "current" (the previous current one is archived) or "archived"
                (archiving the current one leaves the dataset without a current schema).
            columns: The whole new column list (dicts as for ``create``).
            parsing_options: New parsing options (snake_case or camelCase keys).
            **kwargs: Request options (``timeout``, ``extra_headers``, ...); other fields, sent
                with camelCase keys.

        Raises:
            ValueError: If a column has no name or type (before any request).
            NotFoundError: If it doesn't exist.
            ValidationError: If the server refuses a column, an option or the status.

        Wire: ``PATCH /dataset-schema-versions/{datasetSchemaVersionId}``
        """
        options, kwargs = split_options(kwargs)
        fields = {
            "status": status,
            "columns": wire_columns(columns) if columns is not None else None,
            "parsingOptions": wire_parsing_options(parsing_options),
        }
        path = _schema_path(schema_version_id)
        body = make_body(fields, kwargs)
        return await self._patch(path, DatasetSchemaVersionAsyncModel, body=body, options=options)

    async def infer(
        self,
        *,
        file_id: Optional[str] = None,
        data_version_id: Optional[str] = None,
        parsing_options: Optional[Dict[str, Any]] = None,
        sample_rows: Optional[int] = None,
        **kwargs: Any,
    ) -> Dict[str, Any]:
        """Columns and parsing options of an uploaded file or a data version, inferred by the
        server (an extension of the published API: servers that have it list
        ``"dataset-schema-inference"`` in ``GET /health``; elsewhere this raises
        ``NotFoundError``). Nothing is stored: send the columns on with ``create``.

        Args:
            file_id: A completed file to read.
            data_version_id: Or a completed data version.
            parsing_options: How to read it; what is left out (delimiter, encoding) is sniffed.
            sample_rows: Records read for the types (server default 100000).
            **kwargs: Request options (``timeout``, ...); other fields, sent with camelCase keys.

        Returns:
            ``{"columns": [...], "parsingOptions": {...}, "rowsSampled": n, "sampledAll": b}``;
            ``columns`` are ready to send as the columns of a schema version.

        Raises:
            ValidationError: If the file cannot be read as delimited text.
            NotFoundError: If the file or version doesn't exist, or the server does not offer
                the ``dataset-schema-inference`` extension (the message says which).

        Wire: ``POST /dataset-schema-versions/infer``
        """
        options, kwargs = split_options(kwargs)
        fields = {
            "fileId": file_id,
            "datasetDataVersionId": data_version_id,
            "parsingOptions": wire_parsing_options(parsing_options),
            "sampleRows": sample_rows,
        }
        body = make_body(fields, kwargs)
        inferred = await self._in_extension(
            EXTENSION_SCHEMA_INFERENCE,
            f"POST {_PATH}/infer",
            lambda: self._client._request("POST", f"{_PATH}/infer", body=body, options=options),
        )
        if not isinstance(inferred, dict) or not isinstance(inferred.get("columns"), list):
            raise APIError(f"Unexpected answer to POST {_PATH}/infer: no columns")
        return inferred

    async def create_from_sample(
        self,
        dataset_id: str,
        sample: Any,
        *,
        status: str = "draft",
        header_row: int = 1,
        sample_size: int = 100,
        parsing_options: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> DatasetSchemaVersionAsyncModel:
        """Create a schema version with the columns of a sample of the data: names from its
        header, types from its values.

        A server that infers schemas (it lists ``"dataset-schema-inference"`` in
        ``GET /health``) reads the sample with its own engine: the sample is uploaded as a
        temporary file, inferred and deleted (of a path or bytes over 1 MiB only the whole lines
        of its first MiB, unless they hold fewer than ``sample_size`` records). Elsewhere the
        first ``sample_size`` records are read here, as 0.2.7 read the header line, with the
        server's type rules: ``integer``, ``float``, ``boolean``, ``date``, ``datetime``, else
        ``string`` (codes with leading zeros stay strings); nullable where the sample has
        blanks; a missing delimiter is sniffed.

        Args:
            dataset_id: The dataset.
            sample: A path, bytes or a binary file object (CSV, TSV or other delimited text).
            status: "draft" (default), "current" or "archived".
            header_row: 1-based line of the header.
            sample_size: Records read to infer the types.
            parsing_options: How to read the sample when sniffing is not enough
                (``delimiter``, ``skip_rows``, ``encoding``...).
            **kwargs: Request options (``timeout``, ``idempotency_key`` of the create, ...);
                other fields of the create request, sent with camelCase keys.

        Raises:
            ValueError: If the path does not exist, or the sample has no header.
            ValidationError: If the server cannot read the sample.
            NotFoundError: If the dataset doesn't exist.

        Wire: ``GET /health`` (once per client), then either ``POST /files/upload-url``,
        ``PUT <uploadUrl>``, ``POST /files/{fileId}/complete``,
        ``POST /dataset-schema-versions/infer``, ``DELETE /files/{fileId}``, or nothing; then
        ``POST /dataset-schema-versions``
        """
        options, kwargs = split_options(kwargs)
        path_param(dataset_id, "dataset_id")  # an empty id is refused before any I/O
        if EXTENSION_SCHEMA_INFERENCE in await self._client._extensions():
            inferred = await self._infer_sample(
                sample,
                header_row=header_row,
                sample_size=sample_size,
                parsing_options=parsing_options,
                options=options,
            )
        else:
            head, complete = await read_head(sample, SAMPLE_BYTES)
            inferred = infer_sample_schema(
                head,
                complete=complete,
                header_row=header_row,
                sample_size=sample_size,
                parsing_options=parsing_options,
            )
        if not inferred["columns"]:
            raise ValueError("The sample has no header row to take column names from")
        # Sent as inferred: the columns are in wire form already (a "date" stays a date).
        fields: Dict[str, Any] = {
            "datasetId": dataset_id,
            "columns": inferred["columns"],
            "status": status,
        }
        if isinstance(inferred.get("parsingOptions"), dict):
            fields["parsingOptions"] = inferred["parsingOptions"]
        body = make_body(fields, kwargs)
        return await self._post(_PATH, DatasetSchemaVersionAsyncModel, body=body, options=options)

    async def _infer_sample(
        self,
        sample: Any,
        *,
        header_row: int,
        sample_size: int,
        parsing_options: Any,
        options: RequestOptions,
    ) -> Dict[str, Any]:
        """The server's inference of a sample: uploaded as a temporary file, inferred, deleted.

        Of a large path or bytes only the head is uploaded (``sample_head``): the server reads
        the first ``sample_size`` records and sniffs from the first bytes, so the answer is the
        same. Should the head hold fewer records than that (long or multi-line records), the
        whole sample is uploaded and inferred again."""
        wanted = wire_parsing_options(parsing_options) or {}
        if header_row != 1:
            wanted["headerRow"] = header_row
        head = await _uploadable_head(sample, wanted, sample_size)
        if head is not None:
            inferred = await self._infer_uploaded(
                head, wanted=wanted, sample_size=sample_size, options=options, name=_name(sample)
            )
            sampled = inferred.get("rowsSampled")
            if isinstance(sampled, int) and sampled >= sample_size:
                return inferred
        return await self._infer_uploaded(
            sample, wanted=wanted, sample_size=sample_size, options=options
        )

    async def _infer_uploaded(
        self,
        sample: Any,
        *,
        wanted: Dict[str, Any],
        sample_size: int,
        options: RequestOptions,
        name: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Upload ``sample`` as a temporary file, infer it (``wanted``: the options to read it
        with), delete it."""
        files = AsyncFiles(self._client)
        lookup = lookup_options(options)
        uploaded = await files.upload(
            sample, name=name, metadata={"purpose": "dataset schema sample"}, **lookup
        )
        try:
            if wanted and "delimiter" not in wanted:
                # Options given without a delimiter: the server then reads ",", so learn the
                # delimiter and encoding it sniffs first.
                sniffed = await self.infer(
                    file_id=uploaded.file_id, sample_rows=sample_size, **lookup
                )
                guessed = sniffed.get("parsingOptions")
                if isinstance(guessed, dict):
                    wanted = {**_pick(guessed, "delimiter", "encoding"), **wanted}
            return await self.infer(
                file_id=uploaded.file_id,
                parsing_options=wanted or None,
                sample_rows=sample_size,
                **lookup,
            )
        finally:
            with _io_async.shield(), contextlib.suppress(Exception):
                await files.delete(uploaded.file_id, **cleanup_options(options))


async def _uploadable_head(
    sample: Any, wanted: Dict[str, Any], sample_size: int
) -> Optional[bytes]:
    """The head of a path or bytes larger than ``SAMPLE_UPLOAD_BYTES`` to infer from, cut after
    a line end (``sample_head``), or ``None``: upload it whole (a stream, which is read once; a
    small sample; a head that cannot be cut safely)."""
    if not isinstance(sample, (bytes, bytearray, memoryview, str, os.PathLike)):
        return None
    head, complete = await read_head(sample, SAMPLE_UPLOAD_BYTES)
    return None if complete else sample_head(head, wanted, sample_size)


def _name(sample: Any) -> Optional[str]:
    """The name ``files.upload`` gives a path (``upload_name``), for its uploaded head; bytes
    keep the upload's default."""
    if isinstance(sample, (str, os.PathLike)):
        return upload_name(None, path=os.fsdecode(sample))
    return None


def _schema_path(schema_version_id: str) -> str:
    return f"{_PATH}/{path_param(schema_version_id, 'schema_version_id')}"


def _pick(values: Dict[str, Any], *keys: str) -> Dict[str, Any]:
    return {key: values[key] for key in keys if values.get(key) is not None}
