"""The local store's presigned URLs, served by the API itself.

`PUT {base}/_storage/upload/{token}` and `GET {base}/_storage/download/{token}`. The token is the
credential (HMAC over method, key, expiry and size; storage/local.py), so no bearer token is
asked for. Expired, altered or wrong-method URLs answer 403 with the error envelope, a body of the
wrong length 400; failures map in api/errors.py. Bytes stream both ways in chunks of at most
1 MiB; an upload lands under a temporary name and becomes visible only through
`POST /files/{id}/complete`. An upload URL is single use: once its upload is completed, failed or
deleted, a PUT answers 403 (as an expired URL does) and keeps no byte (`transfers.accepts_upload`,
asked before the body is read and again once it landed). With an S3 store these routes answer
404: clients then talk to S3.

Not in the OpenAPI document: these URLs are handed out by the API, never composed by clients.
"""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from moderately.db.session import Database
from moderately.errors import NotFound
from moderately.services.transfers import accepts_upload
from moderately.storage import LocalStore, WrongMethod, response_headers

router = APIRouter(prefix="/_storage", include_in_schema=False)

# Every method reaches the handler, so a URL used with the wrong one answers 403 (as S3 does),
# not 405.
_METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"]


def _local_store(request: Request) -> LocalStore:
    store = request.app.state.storage.store
    if not isinstance(store, LocalStore):
        raise NotFound("storage route")
    return store


@router.api_route("/upload/{token}", methods=_METHODS)
@router.api_route("/download/{token}", methods=_METHODS)
async def transfer(request: Request, token: str) -> Response:
    store = _local_store(request)
    if request.method == "PUT":
        database: Database = request.app.state.database

        async def accepting(key: str) -> bool:
            async with database.session(write=False) as session:
                return await accepts_upload(session, key)

        length = request.headers.get("content-length")
        await store.receive(
            token,
            request.stream(),
            content_type=request.headers.get("content-type"),
            content_length=int(length) if length and length.isdigit() else None,
            accepting=accepting,
        )
        return JSONResponse({})
    if request.method == "GET":
        reader = await store.serve(token)
        return StreamingResponse(reader, headers=response_headers(reader.info))
    raise WrongMethod(f"presigned URLs allow only PUT and GET, not {request.method}")
