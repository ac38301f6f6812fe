"""opdeck: one deck for every operation of the services you run.

    import opdeck
    deck = opdeck.Deck(base_urls={"wildduck": "http://mail:8080"}, credentials={"wildduck": "token"})
    users = deck.call("wildduck.users.getUsers", query="ann")
    users = deck.wildduck.users.getUsers(query="ann")        # the same call
    async for project in deck.apaginate("kitsu.projects.list"): ...

The work is done by the native module ``opdeck._opdeck`` (Rust); this file
adds only Python sugar: attribute access to operations, the page iterators
and the ``@deck.operation`` decorator. Importing it starts no thread and
reads no catalog.
"""

from __future__ import annotations

from . import _opdeck
from ._opdeck import (
    AuthError,
    ConfigError,
    DecodeError,
    Error,
    HttpError,
    InternalError,
    IoError,
    LimitError,
    Pager,
    PolicyError,
    Response,
    ScriptError,
    SpecError,
    TimeoutError,
    TransportError,
    UnknownOperation,
    UsageError,
    ValidationError,
    __version__,
    refresh_log_level,
)

__all__ = [
    "AuthError",
    "ConfigError",
    "DecodeError",
    "Deck",
    "Error",
    "HttpError",
    "InternalError",
    "IoError",
    "LimitError",
    "Operation",
    "Pager",
    "PolicyError",
    "Response",
    "ScriptError",
    "SpecError",
    "TimeoutError",
    "TransportError",
    "UnknownOperation",
    "UsageError",
    "ValidationError",
    "__version__",
    "refresh_log_level",
]

# `typing` and `inspect` cost more than the rest of the import: they are read
# by type checkers only, and `inspect` when an operation is first looked up.
MYPY = False
if MYPY:
    from typing import Any, AsyncIterator, Callable, Iterator, Optional, TypeVar

    _F = TypeVar("_F", bound=Callable[..., Any])


class Deck(_opdeck.Deck):
    """A deck of operations: the built-in services, added sources and plugins.

    ``Deck(profile=None, config=None, base_urls=None, credentials=None,
    mock=False, read_only=False, timeout=None, builtins=None)``.
    ``credentials`` maps a service to a token string or to
    ``{"username": ..., "password": ...}`` (a login flow). ``mock=True``
    answers every call from the built-in simulator. ``builtins`` is True
    (default), False, or a list of built-in service names to load.
    """

    def __getattr__(self, name: str) -> Namespace:
        if name.startswith("_"):
            raise AttributeError(name)
        if not any(s["name"] == name for s in self.services()):
            raise AttributeError(f"{type(self).__name__!s} has no attribute or service {name!r}")
        return Namespace(self, name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {s["name"] for s in self.services()})

    async def acall(self, op: str, input: Any = None, /, **params: Any) -> Any:
        """``call``, awaitable; the request starts when it is awaited, on the running loop."""
        return await self.start_call(op, input, **params)

    async def acall_full(self, op: str, input: Any = None, /, **params: Any) -> Response:
        """``call_full``, awaitable."""
        return await self.start_call_full(op, input, **params)

    def paginate(
        self,
        op: str,
        input: Any = None,
        /,
        *,
        max_pages: Optional[int] = None,
        max_items: Optional[int] = None,
        **params: Any,
    ) -> Iterator[Any]:
        """Every item of every page of ``op``, fetched a page at a time."""
        pager = self.pager(op, input, max_pages, max_items, params)
        while True:
            page = pager.next_page()
            if page is None:
                return
            yield from page

    async def apaginate(
        self,
        op: str,
        input: Any = None,
        /,
        *,
        max_pages: Optional[int] = None,
        max_items: Optional[int] = None,
        **params: Any,
    ) -> AsyncIterator[Any]:
        """``paginate`` for ``async for``."""
        pager = self.pager(op, input, max_pages, max_items, params)
        while True:
            page = await pager.anext_page()
            if page is None:
                return
            for item in page:
                yield item

    def operation(self, op: str, *, input_schema: Optional[dict[str, Any]] = None) -> Callable[[_F], _F]:
        """Registers the decorated function, sync or async, as operation ``op``.

        The function receives the validated input as one dict and returns a
        JSON value. Python calls it like any operation, ``ops()`` lists it, and
        Rhai scripts run with ``run_script`` can call it.
        """

        def decorate(func: _F) -> _F:
            self.register(op, func, input_schema)
            return func

        return decorate


class Namespace:
    """``deck.<service>`` or ``deck.<service>.<group>``: attribute access to operation ids."""

    __slots__ = ("_deck", "_prefix")

    def __init__(self, deck: Deck, prefix: str) -> None:
        self._deck = deck
        self._prefix = prefix

    def _children(self) -> set[str]:
        service = self._prefix.split(".", 1)[0]
        start = self._prefix + "."
        return {
            op["id"][len(start) :].split(".", 1)[0] for op in self._deck.ops(service=service) if op["id"].startswith(start)
        }

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        full = f"{self._prefix}.{name}"
        if self._deck.has_operation(full):
            cache = self._deck.__dict__.setdefault("_operations", {})
            found = cache.get(full)
            if found is None:
                found = cache[full] = Operation(self._deck, full)
            return found
        if name in self._children():
            return Namespace(self._deck, full)
        raise AttributeError(f"no operation or group {full!r}")

    def __dir__(self) -> list[str]:
        return sorted(self._children())

    def __repr__(self) -> str:
        return f"<opdeck namespace {self._prefix}>"


def _doc(desc: dict[str, Any]) -> str:
    lines = [f"{desc.get('method', '')} {desc.get('path', '')}".strip()]
    if desc.get("summary"):
        lines += ["", str(desc["summary"])]
    schema = desc.get("input_schema") or {}
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    where = {p.get("key") or p.get("name"): p.get("in") for p in desc.get("parameters") or [] if isinstance(p, dict)}
    if props:
        lines += ["", "Parameters:"]
        for key, sub in props.items():
            kind = sub.get("type", "object" if "$ref" in sub else "any") if isinstance(sub, dict) else "any"
            if isinstance(kind, list):
                kind = " | ".join(map(str, kind))
            place = where.get(key) or ("body" if key == "body" else "")
            flags = ", ".join(x for x in (str(kind), place, "required" if key in required else "") if x)
            lines.append(f"    {key} ({flags})")
    return "\n".join(lines)


class Operation:
    """One operation, callable: ``deck.wildduck.users.getUsers(query="ann")``.

    ``help()`` shows its method, path and parameters; ``.acall``,
    ``.call_full``, ``.paginate`` and ``.prepare`` are its other forms.
    """

    def __init__(self, deck: Deck, op: str) -> None:
        import inspect

        self._deck = deck
        self.id = op
        desc = deck.describe(op)
        self.__doc__ = _doc(desc)
        schema = desc.get("input_schema") or {}
        required = set(schema.get("required") or [])
        params = [inspect.Parameter("input", inspect.Parameter.POSITIONAL_ONLY, default=None)]
        for key in (schema.get("properties") or {}):
            if key.isidentifier():
                default = inspect.Parameter.empty if key in required else None
                params.append(inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=default))
        self.__signature__ = inspect.Signature(params)

    def __call__(self, input: Any = None, /, **params: Any) -> Any:
        return self._deck.call(self.id, input, **params)

    async def acall(self, input: Any = None, /, **params: Any) -> Any:
        return await self._deck.acall(self.id, input, **params)

    def call_full(self, input: Any = None, /, **params: Any) -> Response:
        return self._deck.call_full(self.id, input, **params)

    def paginate(self, input: Any = None, /, **params: Any) -> Iterator[Any]:
        return self._deck.paginate(self.id, input, **params)

    def prepare(self, input: Any = None, /, **params: Any) -> str:
        return self._deck.prepare(self.id, input, **params)

    def __repr__(self) -> str:
        return f"<opdeck operation {self.id}>"
