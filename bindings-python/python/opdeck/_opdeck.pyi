"""Stubs of the native module; CI checks them with ``python -m mypy.stubtest opdeck``."""

import asyncio
import builtins
from os import PathLike
from typing import Any, Callable, Iterable, Optional, Union, final

from typing_extensions import disjoint_base

__all__ = [
    "Deck",
    "Response",
    "Pager",
    "refresh_log_level",
    "Error",
    "UnknownOperation",
    "SpecError",
    "ValidationError",
    "HttpError",
    "TransportError",
    "TimeoutError",
    "AuthError",
    "DecodeError",
    "ConfigError",
    "UsageError",
    "IoError",
    "ScriptError",
    "LimitError",
    "PolicyError",
    "InternalError",
    "__version__",
]

__version__: str

def refresh_log_level() -> None: ...

@final
class Response:
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> dict[str, str]: ...
    @property
    def body(self) -> Any: ...

@final
class Pager:
    def next_page(self) -> Optional[list[Any]]: ...
    def anext_page(self) -> asyncio.Future[Optional[list[Any]]]: ...

@disjoint_base
class Deck:
    def __new__(
        cls,
        *,
        profile: Optional[str] = None,
        config: Union[str, PathLike[str], None] = None,
        base_urls: Optional[dict[str, str]] = None,
        credentials: Optional[dict[str, Union[str, dict[str, str]]]] = None,
        mock: bool = False,
        read_only: bool = False,
        timeout: Optional[float] = None,
        builtins: Union[bool, list[str], None] = None,
    ) -> "Deck": ...
    def call(self, op: str, input: Any = None, /, **params: Any) -> Any: ...
    def call_full(self, op: str, input: Any = None, /, **params: Any) -> Response: ...
    def start_call(self, op: str, input: Any = None, /, **params: Any) -> asyncio.Future[Any]: ...
    def start_call_full(self, op: str, input: Any = None, /, **params: Any) -> asyncio.Future[Response]: ...
    def call_many(
        self, calls: Iterable[Union[str, tuple[str], tuple[str, Any]]], /, limit: int = 64
    ) -> list[Union[Any, Error]]: ...
    def pager(
        self,
        op: str,
        input: Any = None,
        /,
        max_pages: Optional[int] = None,
        max_items: Optional[int] = None,
        params: Optional[dict[str, Any]] = None,
    ) -> Pager: ...
    def ops(
        self,
        query: str = "",
        /,
        *,
        service: Optional[str] = None,
        group: Optional[str] = None,
        method: Optional[str] = None,
        deprecated: Optional[bool] = None,
        read_only: bool = False,
        since: Optional[str] = None,
    ) -> list[dict[str, Any]]: ...
    def describe(self, op: str) -> dict[str, Any]: ...
    def services(self) -> list[dict[str, Any]]: ...
    def has_operation(self, op: str) -> bool: ...
    def add_source(self, name: str, spec: str, /, *, base_url: Optional[str] = None) -> list[str]: ...
    def preview_spec(self, spec: str) -> dict[str, Any]: ...
    def prepare(self, op: str, input: Any = None, /, **params: Any) -> str: ...
    def register(
        self, op: str, func: Callable[[Any], Any], /, input_schema: Optional[dict[str, Any]] = None
    ) -> None: ...
    def run_script(
        self,
        source: str,
        /,
        *,
        args: Union[dict[str, Any], list[str], None] = None,
        name: str = "<script>",
        dry_run: bool = False,
    ) -> Any: ...

class Error(Exception):
    kind: Optional[str]
    operation: Optional[str]

class UnknownOperation(Error):
    suggestions: Optional[list[str]]

class SpecError(Error): ...

class ValidationError(Error):
    violations: Optional[list[dict[str, str]]]

class HttpError(Error):
    status: Optional[int]
    body: Any
    headers: Optional[dict[str, str]]

class TransportError(Error): ...
class TimeoutError(Error, builtins.TimeoutError): ...
class AuthError(Error): ...
class DecodeError(Error): ...
class ConfigError(Error): ...
class UsageError(Error): ...
class IoError(Error): ...

class ScriptError(Error):
    status: Optional[int]

class LimitError(Error): ...
class PolicyError(Error): ...
class InternalError(Error): ...
