"""No module of the service keeps mutable state: long-lived objects are built by the composition
root (`runtime.build_services`) and belong to one service instance, so two services in one
process (the tests build many) share nothing.

Constant tables are allowed when their module declares them read-only (`Final[Mapping[...]]`,
`Final[Sequence[...]]`): mypy --strict then refuses any change to them."""

from __future__ import annotations

import asyncio
import collections
import importlib
import pkgutil
import re
import weakref
from types import ModuleType

import itop_intercom

#: Types whose instances can be changed in place.
MUTABLE_TYPES = (
    dict,
    list,
    set,
    bytearray,
    collections.deque,
    weakref.WeakKeyDictionary,
    weakref.WeakValueDictionary,
    weakref.WeakSet,
    asyncio.Lock,
    asyncio.Event,
)
READ_ONLY = re.compile(r"^Final\[(Mapping|Sequence|AbstractSet)\[")


def all_modules() -> list[ModuleType]:
    names = [
        info.name
        for info in pkgutil.walk_packages(itop_intercom.__path__, "itop_intercom.")
        if ".migrations" not in info.name
    ]
    return [itop_intercom, *(importlib.import_module(name) for name in names)]


def read_only_constants(modules: list[ModuleType]) -> set[int]:
    """The objects some module declares as a read-only constant (by identity: other modules
    may import them under another name)."""
    found = set()
    for module in modules:
        for name, annotation in vars(module).get("__annotations__", {}).items():
            text = str(annotation).replace("typing.", "").replace("collections.abc.", "")
            if READ_ONLY.match(text) and name in vars(module):
                found.add(id(vars(module)[name]))
    return found


def own_instance(value: object) -> bool:
    """An instance of one of the service's own classes (a registry, a cache, an outbox...)."""
    return type(value).__module__.startswith("itop_intercom.")


def mutable_globals(modules: list[ModuleType]) -> list[str]:
    constants = read_only_constants(modules)
    found = []
    for module in modules:
        for name, value in vars(module).items():
            if name.startswith("__") and name != "__all__":
                continue
            if id(value) in constants:
                continue
            if isinstance(value, MUTABLE_TYPES) or own_instance(value):
                found.append(f"{module.__name__}.{name}: {type(value).__name__}")
    return found


def test_no_module_holds_mutable_state() -> None:
    assert mutable_globals(all_modules()) == []


def test_the_check_finds_a_module_level_cache_or_registry() -> None:
    module = ModuleType("itop_intercom.example")
    module.cache = weakref.WeakKeyDictionary()  # type: ignore[attr-defined]
    module.handlers = {}  # type: ignore[attr-defined]
    module.TEXTS = {"a": "b"}  # type: ignore[attr-defined]
    module.__annotations__ = {"TEXTS": "Final[Mapping[str, str]]"}
    assert mutable_globals([module]) == [
        "itop_intercom.example.cache: WeakKeyDictionary",
        "itop_intercom.example.handlers: dict",
    ]
