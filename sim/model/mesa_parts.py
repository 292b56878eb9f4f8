"""Mesa without the two subpackages the model never uses, until something uses them.

``import mesa`` runs Mesa's ``__init__``, which imports every part of Mesa:
``mesa.experimental`` (whose continuous space imports ``scipy.spatial``, with
SciPy's sparse matrices, linear algebra and special functions) and ``mesa.space``
(which imports networkx). The model (a ``mesa.Model`` of ``mesa.Agent`` objects)
uses neither; on this 2-core machine they were ~0.3 s of CPU of the ~1.5 s
that an interactive ``truce compare`` takes (issue 14; benchmarks/README.md).

:func:`defer` puts each of them in ``sys.modules`` as a *deferred* module before
Mesa is imported: a real module object with the subpackage's own spec, file and
path, whose code runs, in that same object, the first time any of its attributes
is asked for (``mesa.space.MultiGrid``, ``from mesa.space import ContinuousSpace``,
``from mesa.experimental.devs import ABMSimulator`` and ``mesa.experimental.devs``
all work as before; nothing is replaced or imitated). This is what
:class:`importlib.util.LazyLoader` is for, but on Python 3.11 a lazy module loads
as soon as an ``import`` statement names it again (the import system reads its
``__spec__``), which Mesa's ``__init__`` does. ``mesa.batch_run`` (tqdm) is
imported by Mesa's ``__init__`` with ``from ... import`` and stays as it is.

Called by :mod:`sim.model` (so before the model imports Mesa); it does nothing
once Mesa is imported, or if Mesa's layout is not the expected one.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import threading
import types
from typing import Any, cast

#: Mesa's subpackages that the model does not use, loaded on first use.
DEFERRED = ("mesa.experimental", "mesa.space")

_LOCK = threading.RLock()


class DeferredModule(types.ModuleType):
    """A module whose code has not run yet; it runs on the first missing attribute."""

    def __getattr__(self, name: str) -> Any:
        # only for attributes the module does not have yet (its spec, file and
        # path are set): run the module's code, then answer from what it made
        load(self)
        return getattr(self, name)


def load(module: types.ModuleType) -> None:
    """Run a deferred module's own code in it (once; what ``import`` would have done)."""
    with _LOCK:
        if not isinstance(module, DeferredModule):
            return  # another thread loaded it
        spec = module.__spec__
        assert spec is not None and spec.loader is not None
        cast(types.ModuleType, module).__class__ = types.ModuleType  # an ordinary module now
        spec._initializing = True  # type: ignore[attr-defined]  # as importlib does
        try:
            spec.loader.exec_module(module)
        except BaseException:
            if sys.modules.get(spec.name) is module:
                del sys.modules[spec.name]  # as a failed import leaves it
            raise
        finally:
            spec._initializing = False  # type: ignore[attr-defined]


def defer(names: tuple[str, ...] = DEFERRED) -> list[str]:
    """Register ``names`` (subpackages of one package) as deferred modules.

    Nothing happens for names already imported, or when their parent package (a
    top-level one) is imported already (its ``__init__`` has imported them) or
    cannot be found.

    Returns:
        The names deferred by this call.
    """
    deferred = []
    for name in names:
        parent, _, _ = name.rpartition(".")
        if "." in parent or name in sys.modules or parent in sys.modules:
            continue
        parent_spec = importlib.util.find_spec(parent)  # a top-level name: imports nothing
        if parent_spec is None or not parent_spec.submodule_search_locations:
            continue
        spec = importlib.machinery.PathFinder.find_spec(
            name, list(parent_spec.submodule_search_locations)
        )
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            continue
        module = importlib.util.module_from_spec(spec)
        module.__class__ = DeferredModule
        sys.modules[name] = module
        deferred.append(name)
    return deferred
