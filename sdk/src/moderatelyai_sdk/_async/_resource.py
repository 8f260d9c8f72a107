"""Base class of the resources: the client plus one-line request shortcuts."""

from typing import Any, Awaitable, Callable, Dict, FrozenSet, List, Optional, Tuple, Type, TypeVar

import httpx
from typing_extensions import Protocol

from .._base_client import Query, RequestOptions, lookup_options, missing_extension
from .._exceptions import NotFoundError
from .._files import download_target, known_size, normalize_hash
from .._models import ModelT
from ._pagination import AsyncPage, PageClient
from ._streams import DownloadSink, PathType, ProgressCallback

__all__ = ["AsyncBaseResource", "AsyncResourceClient"]

T = TypeVar("T")


class AsyncResourceClient(PageClient, Protocol):
    """What resources need of their client: the request path, casting answers into models and
    the team. A protocol, so that no resource imports the client module (the client imports
    every resource; ``AsyncBaseClient`` is the implementation)."""

    team_id: str

    async def _call(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Query] = None,
        body: Any = None,
        options: Optional[RequestOptions] = None,
    ) -> Tuple[Any, httpx.Response]: ...

    async def _call_model(
        self,
        method: str,
        path: str,
        cast_to: Type[ModelT],
        *,
        query: Optional[Query] = None,
        body: Any = None,
        options: Optional[RequestOptions] = None,
    ) -> ModelT: ...

    async def _request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Query] = None,
        body: Any = None,
        options: Optional[RequestOptions] = None,
    ) -> Any: ...

    async def _transfer(
        self,
        action: str,
        method: str,
        url: str,
        *,
        options: Optional[RequestOptions] = None,
        headers: Optional[Dict[str, str]] = None,
        content: Optional[Callable[[], Any]] = None,
        receive: Optional[Callable[[httpx.Response], Awaitable[T]]] = None,
    ) -> Optional[T]: ...

    async def _extensions(self) -> FrozenSet[str]: ...

    def _cast(
        self, cast_to: Type[ModelT], data: Any, response: Optional[httpx.Response] = None
    ) -> ModelT: ...

    def _cast_list(
        self, cast_to: Type[ModelT], items: Any, request_id: Optional[str] = None
    ) -> List[ModelT]: ...


class AsyncBaseResource:
    """A group of API operations bound to one client.

    Every public method also takes the request options (``timeout``, ``max_retries``,
    ``extra_headers``, ``extra_query``, ``extra_body``, ``idempotency_key``: see
    ``moderatelyai_sdk.RequestOptions``) as keyword arguments; they are never sent as fields.
    """

    def __init__(self, client: AsyncResourceClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    async def _get(
        self,
        path: str,
        cast_to: Type[ModelT],
        *,
        query: Optional[Query] = None,
        options: Optional[RequestOptions] = None,
    ) -> ModelT:
        return await self._client._call_model("GET", path, cast_to, query=query, options=options)

    async def _get_page(
        self,
        path: str,
        cast_to: Type[ModelT],
        *,
        query: Dict[str, object],
        options: Optional[RequestOptions] = None,
    ) -> AsyncPage[ModelT]:
        return await self._client._get_page(path, cast_to, query, options)

    async def _post(
        self,
        path: str,
        cast_to: Type[ModelT],
        *,
        body: Any,
        options: Optional[RequestOptions] = None,
    ) -> ModelT:
        return await self._write("POST", path, cast_to, body, options)

    async def _patch(
        self,
        path: str,
        cast_to: Type[ModelT],
        *,
        body: Any,
        options: Optional[RequestOptions] = None,
    ) -> ModelT:
        return await self._write("PATCH", path, cast_to, body, options)

    async def _write(
        self,
        method: str,
        path: str,
        cast_to: Type[ModelT],
        body: Any,
        options: Optional[RequestOptions],
    ) -> ModelT:
        return await self._client._call_model(method, path, cast_to, body=body, options=options)

    async def _delete(self, path: str, *, options: Optional[RequestOptions] = None) -> None:
        await self._client._call("DELETE", path, options=options)

    async def _in_extension(
        self, extension: str, operation: str, call: Callable[[], Awaitable[T]]
    ) -> T:
        """``call()``, an operation only the server's ``extension`` offers: its 404 on a server
        that does not list the extension becomes an error saying so (the server's own answer
        reads like an unknown id)."""
        try:
            return await call()
        except NotFoundError as exc:
            if extension in await self._client._extensions():
                raise
            raise missing_extension(exc, extension, operation) from None

    async def _download_stored(
        self,
        api_path: str,
        size_field: str,
        what: str,
        *,
        path: Optional[PathType],
        progress: Optional[ProgressCallback],
        file_hash: Optional[str],
        options: RequestOptions,
    ) -> Optional[bytes]:
        """The bytes stored behind ``api_path`` (a file, a data version): its download URL from
        ``GET {api_path}/download``, its SHA-256 from that answer (else ``file_hash``, else
        ``GET {api_path}``), then the presigned GET streamed into memory or into ``path`` and
        checked against the size and hash."""
        lookup = lookup_options(options)
        found = await self._client._request("GET", f"{api_path}/download", options=lookup)
        answer, url = download_target(found, f"GET {api_path}/download")
        expected_hash = normalize_hash(answer.get("fileHash") or file_hash)
        size: Any = answer.get(size_field)
        if expected_hash is None:
            described = await self._client._request("GET", api_path, options=lookup)
            if isinstance(described, dict):
                expected_hash = normalize_hash(described.get("fileHash"))
                size = described.get(size_field)
        async with DownloadSink(
            path, what=what, sha256=expected_hash, size=known_size(size)
        ) as sink:
            receive = sink.receiver(progress)
            await self._client._transfer("download", "GET", url, options=options, receive=receive)
            return await sink.finish()
