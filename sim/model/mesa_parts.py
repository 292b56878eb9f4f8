"""Mesa as the model imports it: two unused subpackages deferred, loggers named cheaply.

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

Mesa's logging helpers (``mesa.mesa_logging``) name a module's logger after the module
that calls them and a logged method after its class, which they find with
:mod:`inspect`: ``inspect.stack()`` reads the source line of every frame of the import
stack (dozens deep) and ``inspect.getmodule`` scans every imported module. That was
~80 ms of CPU in ``import mesa.model``, the largest single import of ``truce compare``
(benchmarks/README.md, "Session 17"). :func:`frames_only_logging` lets that module, as it
is imported, ask :class:`FramesOnly` instead, which reads the same answers from the frames
themselves; Mesa's code is not changed, nor :mod:`inspect` for anyone else.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import sys
import threading
import types
from typing import Any, cast

#: Mesa's subpackages that the model does not use, loaded on first use.
DEFERRED = ("mesa.experimental", "mesa.space")

#: Mesa's logging helpers, which name loggers after their callers (:class:`FramesOnly`).
LOGGING = "mesa.mesa_logging"

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


class FramesOnly:
    """What ``mesa.mesa_logging`` asks of :mod:`inspect`, answered from the frames alone.

    Its ``create_module_logger`` takes ``inspect.getmodule(inspect.stack()[1][0])``, the
    module calling it, and its ``method_logger`` takes
    ``inspect.getouterframes(inspect.currentframe())[1][3]``, the name of the class body
    calling it. The frames give both without reading a source file or scanning
    ``sys.modules``: each frame's code name, and the module named by its globals'
    ``__name__`` where that module's file is the one the frame runs. Whatever else is
    asked (a frame of a frozen or unnamed module) goes to :mod:`inspect`.
    """

    currentframe = staticmethod(inspect.currentframe)

    @staticmethod
    def getouterframes(frame: Any, context: int = 1) -> list[inspect.FrameInfo]:
        """``frame`` and the frames that called it, without their source lines."""
        frames = []
        while frame is not None:
            code = frame.f_code
            frames.append(
                inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None)
            )
            frame = frame.f_back
        return frames

    @classmethod
    def stack(cls, context: int = 1) -> list[inspect.FrameInfo]:
        """The caller's frame and the frames that called it, without their source lines."""
        return cls.getouterframes(sys._getframe(1), context)

    @staticmethod
    def getmodule(obj: Any, _filename: str | None = None) -> types.ModuleType | None:
        """The module a frame runs the code of; :func:`inspect.getmodule` for anything else."""
        if inspect.isframe(obj):
            found = sys.modules.get(obj.f_globals.get("__name__", ""))
            if getattr(found, "__file__", None) == obj.f_code.co_filename:
                return found  # the module of the file the frame runs, as inspect finds it
        return inspect.getmodule(obj, _filename)

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)


class _FramesOnlyFinder(importlib.abc.MetaPathFinder):
    """Finds ``mesa.mesa_logging`` once, as the path finder does; it then asks FramesOnly."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != LOGGING:
            return None
        try:
            sys.meta_path.remove(self)  # once: Mesa imports it once
        except ValueError:
            pass  # another thread's import removed it
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        loader = getattr(spec, "loader", None)
        if spec is None or not isinstance(loader, importlib.machinery.SourceFileLoader):
            return spec  # another layout: Mesa's own module, as it is
        spec.loader = _FramesOnlyLoader(loader)
        return spec


class _FramesOnlyLoader(importlib.abc.Loader):
    """Runs the module with its own loader, then gives it :class:`FramesOnly` for ``inspect``."""

    def __init__(self, loader: importlib.machinery.SourceFileLoader) -> None:
        self.loader = loader

    def create_module(self, spec: Any) -> None:
        return None  # the default module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__loader__ = module.__spec__.loader = self.loader  # type: ignore[union-attr]
        self.loader.exec_module(module)
        if getattr(module, "inspect", None) is inspect:  # what its helpers call
            module.inspect = FramesOnly()  # type: ignore[attr-defined]


def frames_only_logging() -> bool:
    """Have ``mesa.mesa_logging``, when Mesa imports it, ask :class:`FramesOnly` for frames.

    Returns:
        Whether it will (False: Mesa is imported already, or cannot be found).
    """
    with _LOCK:
        if "mesa" in sys.modules or LOGGING in sys.modules:
            return False
        if importlib.util.find_spec("mesa") is None:
            return False
        if not any(isinstance(f, _FramesOnlyFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, _FramesOnlyFinder())
        return True
