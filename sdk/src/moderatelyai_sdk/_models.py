"""The one pydantic base for wire entities.

Attributes are snake_case; the wire (and ``to_dict()``) is camelCase. Unknown fields are kept, so a
newer server never breaks an older client. Models also read like the wire dict
(``agent["agentId"]``, ``.get()``, ``in``, ``dict(model)``) because 0.2.7 code indexes results.
"""

import functools
from datetime import datetime, timezone
from typing import Any, ClassVar, Dict, List, Optional, Tuple, Type, TypeVar, overload

import httpx
import pydantic
from pydantic import ConfigDict, TypeAdapter
from pydantic.alias_generators import to_camel

from ._base_client import parse_body, request_id_of
from ._exceptions import APIError

__all__ = [
    "BaseModel",
    "ModelT",
    "Timestamp",
    "parse_timestamp",
    "read_model",
    "validate_list",
    "validate_model",
]


class Timestamp:
    """A read-only attribute: the wire timestamp field ``source`` as an aware UTC ``datetime``
    (``None`` when the field is absent, ``None`` or unparsable); the string field is unchanged.

    Declared in the types as ``created_at_datetime: ClassVar[Timestamp] = Timestamp("created_at")``
    (a class variable to pydantic and its mypy plugin, so never a field): every ``*_at`` field
    has its ``*_at_datetime`` twin, which type checkers read as ``Optional[datetime]``.
    """

    __slots__ = ("name", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.name = f"{source}_datetime"

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Timestamp({self.source!r})"

    @overload
    def __get__(self, instance: None, owner: Optional[type] = None) -> "Timestamp": ...

    @overload
    def __get__(
        self, instance: pydantic.BaseModel, owner: Optional[type] = None
    ) -> Optional[datetime]: ...

    def __get__(self, instance: Optional[pydantic.BaseModel], owner: Optional[type] = None) -> Any:
        if instance is None:
            return self
        value = getattr(instance, self.source, None)
        return parse_timestamp(value) if isinstance(value, str) else None

    def __set__(self, instance: Any, value: Any) -> None:
        raise AttributeError(f"{self.name} is read-only; set {self.source} instead")


class BaseModel(pydantic.BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    # Filled once per class: wire or attribute name -> attribute name; (attribute, wire) pairs.
    _lookup: ClassVar[Dict[str, str]] = {}
    _wire_names: ClassVar[List[Tuple[str, str]]] = []

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        pairs = [(name, field.alias or name) for name, field in cls.model_fields.items()]
        cls._wire_names = pairs
        cls._lookup = {**{name: name for name, _ in pairs}, **{wire: name for name, wire in pairs}}

    @property
    def _client(self) -> Any:
        """The client that returned this model (rich methods call its resources), or ``None``."""
        private = self.__pydantic_private__
        return private.get("client") if private else None

    @property
    def _request_id(self) -> Optional[str]:
        """The ``X-Request-Id`` of the response this model came from (quote it when reporting a
        problem), or ``None``."""
        private = self.__pydantic_private__
        return private.get("request_id") if private else None

    def to_dict(self) -> Dict[str, Any]:
        """The entity as the server sent it: a plain dict with camelCase keys."""
        return self.model_dump(by_alias=True, exclude_unset=True)

    def keys(self) -> List[str]:
        """Wire names of the fields present (makes ``dict(model)`` and ``**model`` work)."""
        present = self.__pydantic_fields_set__
        names = [wire for name, wire in self._wire_names if name in present]
        extra = self.__pydantic_extra__
        return names + list(extra) if extra else names

    def __getitem__(self, key: str) -> Any:
        name = self._lookup.get(key)
        if name is not None:
            if name in self.model_fields_set:
                return getattr(self, name)
        else:
            extra = self.__pydantic_extra__
            if extra and key in extra:
                return extra[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            self[key]
        except KeyError:
            return False
        return True

    def get(self, key: str, default: Any = None) -> Any:
        """Value by wire name (``"teamId"``) or attribute name, else ``default``."""
        try:
            return self[key]
        except KeyError:
            return default

    def _replace_with(self, other: "BaseModel") -> None:
        """Take every field of ``other`` (same class), keeping this object's identity."""
        self.__dict__.update(other.__dict__)
        self.__pydantic_fields_set__ = set(other.__pydantic_fields_set__)
        self.__pydantic_extra__ = dict(other.__pydantic_extra__ or {})


ModelT = TypeVar("ModelT", bound=BaseModel)


def bind(model: ModelT, client: Any, request_id: Optional[str] = None) -> ModelT:
    """Attach the client that returned ``model`` and the id of the request that did.

    Kept in pydantic's private-state slot rather than declared as a ``PrivateAttr``: a declared
    private attribute makes pydantic run a post-init hook on every validation, which doubled the
    cost of building a model (benchmarks/sdk_overhead.py).
    """
    object.__setattr__(model, "__pydantic_private__", {"client": client, "request_id": request_id})
    return model


@functools.cache
def _list_adapter(cls: Type[BaseModel]) -> "TypeAdapter[List[Any]]":
    return TypeAdapter(List[cls])  # type: ignore[valid-type]


def validate_model(
    cls: Type[ModelT], data: Any, client: Any, request_id: Optional[str] = None
) -> ModelT:
    """A model of ``cls`` bound to ``client``; an unusable body is an ``APIError``."""
    try:
        return bind(cls.model_validate(data), client, request_id)
    except pydantic.ValidationError as exc:
        raise APIError(f"Unexpected {cls.__name__} in the API response: {exc}") from exc


def validate_list(
    cls: Type[ModelT], items: Any, client: Any, request_id: Optional[str] = None
) -> List[ModelT]:
    """Like ``validate_model`` for a list, in one call into pydantic-core (about 2x faster)."""
    try:
        models: List[ModelT] = _list_adapter(cls).validate_python(items)
    except pydantic.ValidationError as exc:
        raise APIError(f"Unexpected {cls.__name__} list in the API response: {exc}") from exc
    return [bind(model, client, request_id) for model in models]


def read_model(cls: Type[ModelT], response: httpx.Response, client: Any) -> ModelT:
    """The model of a successful response's JSON body, bound to ``client``.

    Validated from the bytes in one call into pydantic-core, which is about twice as fast as
    decoding the JSON and then validating the objects (benchmarks/sdk_overhead.py). A body that
    pydantic refuses there goes through ``parse_body`` and ``validate_model``, the general path,
    so that an unusable body raises exactly what it always did.
    """
    request_id = request_id_of(response)
    if response.status_code != 204:
        try:
            return bind(cls.model_validate_json(response.content), client, request_id)
        except pydantic.ValidationError:
            pass
    return validate_model(cls, parse_body(response), client, request_id)


def parse_timestamp(value: Optional[str]) -> Optional[datetime]:
    """An API timestamp (``2025-08-22T20:14:27.504Z``) as an aware UTC datetime, else ``None``
    (a naive one is UTC, as the server means it)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)
