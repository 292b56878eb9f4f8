"""Experiment designs in YAML: named arms (``compare:``) and sweeps (``sweep:``).

A ``compare:`` block names arms, each a mapping of dotted overrides::

    compare:
      unmonitored: {monitors: null}
      monitored: {monitors.coverage: 0.6}

A ``sweep:`` block holds exactly one design:

- ``grid``: full factorial over value lists or ``{low, high, steps}`` ranges;
- ``points``: hand-picked combinations (BehaviorSpace-style subexperiments);
  a point whose values are lists is itself expanded as a small grid;
- ``lhs``: a Latin hypercube of ``n`` points within ``bounds``;
- ``sobol``: Saltelli's sampling for Sobol indices (SALib), ``n`` base samples;
- ``morris``: Morris elementary-effects trajectories (SALib).

A scenario may carry both blocks: ``truce sweep`` then runs a *crossed*
design, every design point under every arm (arm and sweep must not set the
same parameter), and compares the arms at each point; ``truce compare`` runs
the arms at the scenario's own values.

:func:`expand` turns a scenario's design into a table, one row per arm or
design point (per arm and design point when crossed). Parameters whose
current value is a whole number are rounded when they are sampled from bounds.
Problems become ``reference`` errors with a dotted path, which
:mod:`sim.scenario.schema` turns into a :class:`~sim.scenario.errors.ScenarioError` naming the
file and line.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

KINDS = ("grid", "points", "lhs", "sobol", "morris")
MAX_POINTS = 1_000_000


def _problem(path: str, message: str) -> PydanticCustomError:
    return PydanticCustomError("reference", "{message}", {"path": path, "message": message})


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _shown(value: Any) -> str:
    """A bad value quoted in a message: repr-style, at most 60 characters."""
    from sim.scenario.errors import shown

    return shown(value)


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _problem(path, f"expected a number, got {_shown(value)}")
    return value


class Bounds(_Frozen):
    """The interval a sampled parameter is drawn from."""

    low: float = Field(..., description="lower end")
    high: float = Field(..., description="upper end (above low)")


class Span(_Frozen):
    """An evenly spaced range of grid values (both ends included)."""

    low: float = Field(..., description="first value")
    high: float = Field(..., description="last value (above low)")
    steps: int = Field(..., description="number of values, both ends included (at least 2)")

    def values(self) -> list[float]:
        """The grid values."""
        step = (self.high - self.low) / (self.steps - 1)
        return [self.low + i * step for i in range(self.steps)]


class Lhs(_Frozen):
    """A Latin hypercube (``scipy.stats.qmc.LatinHypercube``)."""

    n: int = Field(..., description="number of design points")
    bounds: dict[str, Bounds] = Field(..., description="interval of each dotted parameter path")
    seed: int | None = Field(None, description="seed of the design (default: the scenario's)")


class Sobol(_Frozen):
    """Saltelli's sampling for Sobol indices (``SALib.sample.sobol``)."""

    n: int = Field(..., description="base samples (a power of two); points = n (D + 2)")
    bounds: dict[str, Bounds] = Field(..., description="interval of each dotted parameter path")
    second_order: bool = Field(False, description="also sample for second-order indices")
    seed: int | None = Field(None, description="seed of the design (default: the scenario's)")


class Morris(_Frozen):
    """Morris trajectories (``SALib.sample.morris``)."""

    trajectories: int = Field(10, description="trajectories; points = trajectories (D + 1)")
    levels: int = Field(4, description="grid levels per parameter (even)")
    bounds: dict[str, Bounds] = Field(..., description="interval of each dotted parameter path")
    seed: int | None = Field(None, description="seed of the design (default: the scenario's)")


class Sweep(_Frozen):
    """One sweep design; exactly one of the fields is set."""

    grid: dict[str, tuple[Any, ...] | Span] | None = Field(
        None, description="full factorial: a value list or {low, high, steps} per parameter"
    )
    points: tuple[dict[str, Any], ...] | None = Field(
        None, description="hand-picked design points (mappings of parameter paths to values)"
    )
    lhs: Lhs | None = Field(None, description="Latin hypercube: n points within bounds")
    sobol: Sobol | None = Field(None, description="Saltelli sampling for Sobol indices (SALib)")
    morris: Morris | None = Field(None, description="Morris elementary effects (SALib)")

    @property
    def kind(self) -> str:
        """Which design this is."""
        return next(k for k in KINDS if getattr(self, k) is not None)

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: Any) -> Any:
        return parse_sweep(data)


# --------------------------------------------------------------------------- parsing


def _mapping(value: Any, path: str, what: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise _problem(path, f"expected {what}, got {type(value).__name__}")
    if not value:
        raise _problem(path, f"expected {what}, got an empty mapping")
    return value


def _keys(value: Mapping, path: str, allowed: Iterable[str], required: Iterable[str]) -> None:
    allowed = tuple(allowed)
    for key in value:
        if key not in allowed:
            raise _problem(f"{path}.{key}", f"unknown key; valid keys here: {', '.join(allowed)}")
    for key in required:
        if key not in value:
            raise _problem(f"{path}.{key}", "required")


def _count(value: Any, path: str, low: int, high: int = MAX_POINTS) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _problem(
            path, f"expected a whole number between {low} and {high}, got {_shown(value)}"
        )
    return value


def _bounds(value: Any, path: str) -> dict:
    value = _mapping(value, path, "a mapping of low and high")
    _keys(value, path, ("low", "high"), ("low", "high"))
    low, high = _number(value["low"], f"{path}.low"), _number(value["high"], f"{path}.high")
    if not low < high:
        raise _problem(path, f"bounds reversed or empty: low ({low}) must be below high ({high})")
    return {"low": low, "high": high}


def _bounds_map(value: Any, path: str) -> dict:
    value = _mapping(value, path, "a mapping of parameter paths to {low, high}")
    return {str(k): _bounds(v, f"{path}.{k}") for k, v in value.items()}


def parse_sweep(data: Any) -> dict:
    """Check a raw ``sweep:`` mapping and normalise it; raise clear ``reference`` errors."""
    if isinstance(data, Sweep):
        return data.model_dump()
    data = _mapping(data, "sweep", "a mapping with one of: " + ", ".join(KINDS))
    _keys(data, "sweep", KINDS, ())
    # A null design counts as absent: the dumped form lists every kind, the unused ones null.
    kinds = [k for k in KINDS if data.get(k) is not None]
    if len(kinds) != 1:
        got = ", ".join(kinds) if kinds else "none"
        raise _problem("sweep", f"expected exactly one design of {', '.join(KINDS)}, got {got}")
    kind = kinds[0]
    path, value = f"sweep.{kind}", data[kind]
    if kind == "grid":
        grid: dict[str, Any] = {}
        for name, values in _mapping(value, path, "a mapping of parameter paths").items():
            where = f"{path}.{name}"
            if isinstance(values, Mapping):
                _keys(values, where, ("low", "high", "steps"), ("low", "high", "steps"))
                span = _bounds({"low": values["low"], "high": values["high"]}, where)
                grid[str(name)] = {**span, "steps": _count(values["steps"], f"{where}.steps", 2)}
            elif isinstance(values, list | tuple):
                if not values:
                    raise _problem(where, "empty list of values")
                grid[str(name)] = tuple(values)
            else:
                raise _problem(
                    where,
                    f"expected a list of values or {{low, high, steps}}, got {_shown(values)}",
                )
        return {"grid": grid}
    if kind == "points":
        if not isinstance(value, list | tuple) or not value:
            raise _problem(path, "expected a non-empty list of points (mappings of parameters)")
        points = []
        for i, point in enumerate(value):
            point = _mapping(point, f"{path}.{i}", "a mapping of parameter paths to values")
            for name, v in point.items():
                if isinstance(v, list | tuple) and not v:
                    raise _problem(f"{path}.{i}.{name}", "empty list of values")
            points.append({str(k): v for k, v in point.items()})
        return {"points": tuple(points)}
    value = _mapping(value, path, "a mapping")
    if kind == "lhs":
        _keys(value, path, ("n", "bounds", "seed"), ("n", "bounds"))
        out: dict[str, Any] = {"n": _count(value["n"], f"{path}.n", 1)}
    elif kind == "sobol":
        _keys(value, path, ("n", "bounds", "second_order", "seed"), ("n", "bounds"))
        n = _count(value["n"], f"{path}.n", 1, 65536)
        if n & (n - 1):
            raise _problem(f"{path}.n", f"expected a power of two (Sobol sequence), got {n}")
        second = value.get("second_order", False)
        if not isinstance(second, bool):
            raise _problem(f"{path}.second_order", f"expected true or false, got {_shown(second)}")
        out = {"n": n, "second_order": second}
    else:
        _keys(value, path, ("trajectories", "levels", "bounds", "seed"), ("bounds",))
        out = {
            "trajectories": _count(value.get("trajectories", 10), f"{path}.trajectories", 2),
            "levels": _count(value.get("levels", 4), f"{path}.levels", 2, 100),
        }
        if out["levels"] % 2:
            raise _problem(f"{path}.levels", f"expected an even number, got {out['levels']}")
    if value.get("seed") is not None:
        out["seed"] = _count(value["seed"], f"{path}.seed", 0, 2**32 - 1)
    out["bounds"] = _bounds_map(value["bounds"], f"{path}.bounds")
    if kind in ("sobol", "morris") and len(out["bounds"]) < 2:
        raise _problem(f"{path}.bounds", f"{kind} needs at least two parameters")
    return {kind: out}


def parse_compare(data: Any) -> dict[str, dict[str, Any]]:
    """Check a raw ``compare:`` mapping: two or more named arms of dotted overrides."""
    if data is None or data == {}:
        return {}
    data = _mapping(data, "compare", "a mapping of arm names to overrides")
    if len(data) < 2:
        raise _problem("compare", f"expected at least two arms, got {len(data)}")
    arms = {}
    for name, overrides in data.items():
        if isinstance(name, bool):
            raise _problem(
                f"compare.{str(name).lower()}",
                "arm names must be text; YAML reads "
                "on/off/yes/no as true/false, so quote them ('on')",
            )
        if not isinstance(name, str) or not name.strip() or len(name) > 60:
            got = _shown(name) + (f" ({len(name):,} characters)" if isinstance(name, str) else "")
            raise _problem(
                f"compare.{name}", f"expected an arm name (text, 1 to 60 characters), got {got}"
            )
        if overrides is None:
            overrides = {}
        if not isinstance(overrides, Mapping):
            raise _problem(
                f"compare.{name}",
                f"expected a mapping of dotted parameter paths to values, got {_shown(overrides)}",
            )
        arms[name] = {str(k): v for k, v in overrides.items()}
    return arms


# --------------------------------------------------------------------------- expansion


@dataclass(frozen=True)
class DesignRow:
    """One arm or design point: its label, index and overrides.

    ``overrides`` is everything applied to the scenario (the arm's and the
    point's); ``parameters`` only the swept ones, which become columns of the
    runs table.
    """

    arm: str
    point: int
    overrides: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)


def _base_data(scenario: Scenario) -> dict:
    return scenario.model_dump(mode="json", exclude={"compare", "sweep"})


def _get(data: Any, dotted: str) -> Any:
    """The value at a dotted path of a dumped scenario (None if absent)."""
    node = data
    for part in dotted.split("."):
        if isinstance(node, list):
            match = [
                x
                for i, x in enumerate(node)
                if str(i) == part or (isinstance(x, dict) and x.get("name") == part)
            ]
            node = match[0] if match else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _integer_params(scenario: Scenario, names: Iterable[str]) -> set[str]:
    """Parameters whose value in the scenario (or the schema default) is a whole number."""
    from sim.scenario.schema import Scenario as _Scenario
    from sim.scenario.schema import _field_for

    data, default = _base_data(scenario), _Scenario().model_dump(mode="json")
    out = set()
    for name in names:
        value = _get(data, name)
        value = _get(default, name) if value is None else value
        if value is None:  # a section absent in the scenario: ask the schema
            parts = name.split(".")
            tries = [parts] + [[*parts[:i], "0", *parts[i + 1 :]] for i in range(len(parts))]
            field = next((f for t in tries if (f := _field_for(tuple(t))) is not None), None)
            if field is not None and field.annotation is int:
                out.add(name)
        elif isinstance(value, int) and not isinstance(value, bool):
            out.add(name)
    return out


def _sampled(scenario: Scenario, bounds: Mapping[str, Bounds], matrix: Any) -> list[dict]:
    names = list(bounds)
    ints = _integer_params(scenario, names)
    rows = []
    for sample in matrix:
        row = {}
        for name, x in zip(names, sample, strict=True):
            row[name] = int(round(float(x))) if name in ints else float(x)
        rows.append(row)
    return rows


def problem_spec(bounds: Mapping[str, Bounds]) -> dict:
    """The SALib ``problem`` of sampled bounds: ``num_vars``, ``names``, ``bounds``."""
    return {
        "num_vars": len(bounds),
        "names": list(bounds),
        "bounds": [[b.low, b.high] for b in bounds.values()],
    }


def sampled_bounds(sweep: Sweep) -> dict[str, Bounds] | None:
    """The bounds of a sampled design (``lhs``, ``sobol``, ``morris``); None for the others."""
    design = sweep.lhs or sweep.sobol or sweep.morris
    return None if design is None else dict(design.bounds)


def _sampled_design(sweep: Sweep) -> Lhs | Sobol | Morris:
    """The design of a sampled sweep.

    Raises:
        ValueError: for a ``grid`` or ``points`` design.
    """
    design = sweep.lhs or sweep.sobol or sweep.morris
    if design is None:
        raise ValueError(f"a {sweep.kind} design is not sampled")
    return design


def latin_hypercube(d: int, n: int, seed: int) -> Any:
    """``scipy.stats.qmc.LatinHypercube(d=d, seed=seed).random(n)``, value for value, in NumPy.

    SciPy's algorithm (scrambled, strength 1, no optimisation): a uniform draw
    per cell, then one shuffled column of strata per dimension, all from one
    ``numpy.random.default_rng(seed)``. Written out so that a sweep's driver
    does not import ``scipy.stats`` (about 60 MB of its memory, issue 14);
    ``tests/test_sweep_driver.py`` checks it equals SciPy's.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    samples = rng.uniform(size=(n, d))
    perms = np.tile(np.arange(1, n + 1), (d, 1))
    for i in range(d):
        rng.shuffle(perms[i, :])
    return (perms.T - samples) / n


def sample_matrix(sweep: Sweep, seed: int) -> Any:
    """The sample of a sampled design, one row per design point, before any rounding.

    This is what :mod:`SALib.analyze` expects alongside the outputs (Morris
    reads the direction of each step from it), so it is kept apart from the
    rounding to whole numbers that :func:`sweep_points` applies.

    Args:
        sweep: an ``lhs``, ``sobol`` or ``morris`` design.
        seed: the design's seed when the design names none (the scenario's,
            modulo 2**32).

    Returns:
        A NumPy array of shape (points, parameters), columns in the order of
        the design's ``bounds``.

    Raises:
        ValueError: for a ``grid`` or ``points`` design.
    """
    design = _sampled_design(sweep)
    spec = problem_spec(design.bounds)
    if isinstance(design, Lhs):
        import numpy as np

        unit = latin_hypercube(
            len(design.bounds), design.n, design.seed if design.seed is not None else seed
        )
        lows = np.asarray([float(b[0]) for b in spec["bounds"]])
        highs = np.asarray([float(b[1]) for b in spec["bounds"]])
        return unit * (highs - lows) + lows  # as scipy.stats.qmc.scale
    if isinstance(design, Sobol):
        from SALib.sample import sobol as sobol_sample

        return sobol_sample.sample(
            spec,
            design.n,
            calc_second_order=design.second_order,
            scramble=True,
            seed=design.seed if design.seed is not None else seed,
        )
    from SALib.sample import morris as morris_sample

    return morris_sample.sample(
        spec,
        design.trajectories,
        num_levels=design.levels,
        seed=design.seed if design.seed is not None else seed,
    )


def sweep_points(scenario: Scenario, sweep: Sweep | None = None) -> list[dict[str, Any]]:
    """The design points of a sweep, each a mapping of dotted paths to values."""
    sweep = sweep if sweep is not None else scenario.sweep
    if sweep is None:
        return [{}]
    if sweep.grid is not None:
        axes = {k: (v.values() if isinstance(v, Span) else list(v)) for k, v in sweep.grid.items()}
        ints = _integer_params(scenario, [k for k, v in sweep.grid.items() if isinstance(v, Span)])
        for name in ints:
            axes[name] = list(dict.fromkeys(int(round(x)) for x in axes[name]))
        return [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]
    if sweep.points is not None:
        out = []
        for point in sweep.points:
            axes = {k: (list(v) if isinstance(v, list | tuple) else [v]) for k, v in point.items()}
            out += [dict(zip(axes, c, strict=True)) for c in itertools.product(*axes.values())]
        return out
    matrix = sample_matrix(sweep, scenario.seed % 2**32)
    return _sampled(scenario, _sampled_design(sweep).bounds, matrix)


def expand(scenario: Scenario, kind: str) -> list[DesignRow]:
    """The design table of an experiment.

    Args:
        scenario: the validated scenario.
        kind: ``"run"`` (one row), ``"compare"`` (one row per arm, point 0) or
            ``"sweep"`` (one row per design point, arm = the scenario's name;
            with a ``compare:`` block too, one row per arm and point, in arm-major
            order: the crossed design).

    Raises:
        ValueError: if the scenario has no design of that kind.
    """
    if kind == "run":
        return [DesignRow(scenario.name, 0, {})]
    if kind == "compare":
        if not scenario.compare:
            raise ValueError("the scenario has no compare: block (named arms)")
        return [DesignRow(arm, 0, dict(o)) for arm, o in scenario.compare.items()]
    if kind == "sweep":
        if scenario.sweep is None:
            raise ValueError("the scenario has no sweep: block")
        points = sweep_points(scenario)
        arms = scenario.compare or {scenario.name: {}}
        own = _own_values(scenario, swept_parameters(scenario.sweep))
        return [
            DesignRow(arm, i, {**p, **dict(o)}, {**own, **p})
            for arm, o in arms.items()
            for i, p in enumerate(points)
        ]
    raise ValueError(f"unknown experiment kind {kind!r}")


def _own_values(scenario: Scenario, names: Iterable[str]) -> dict[str, Any]:
    """The scenario's own value of each parameter, in ``names``' order (None if unset).

    A ``points`` design may set a parameter in some points only; the others
    run at the scenario's value, and that value fills their column, so every
    design row carries every swept parameter.
    """
    data = _base_data(scenario)
    return {name: _get(data, name) for name in names}


def design_size(sweep: Sweep) -> int:
    """The number of design points of a sweep, without drawing them.

    For a ``grid`` range over a whole-number parameter this is an upper bound:
    values that round to the same number are run once.
    """
    if sweep.grid is not None:
        return math.prod(v.steps if isinstance(v, Span) else len(v) for v in sweep.grid.values())
    if sweep.points is not None:
        return sum(
            math.prod(len(v) if isinstance(v, list | tuple) else 1 for v in point.values())
            for point in sweep.points
        )
    design = _sampled_design(sweep)
    d = len(design.bounds)
    if isinstance(design, Lhs):
        return design.n
    if isinstance(design, Sobol):
        return design.n * (2 * d + 2 if design.second_order else d + 2)
    return design.trajectories * (d + 1)


def design_values(scenario: Scenario, name: str) -> list[Any]:
    """Every value an arm or the sweep gives the dotted parameter ``name`` (bounds: both ends)."""
    values = [o[name] for o in scenario.compare.values() if name in o]
    sweep = scenario.sweep
    if sweep is None:
        return values
    if sweep.grid is not None and name in sweep.grid:
        axis = sweep.grid[name]
        values += [axis.low, axis.high] if isinstance(axis, Span) else list(axis)
    elif sweep.points is not None:
        for point in sweep.points:
            v = point.get(name)
            values += list(v) if isinstance(v, list | tuple) else [] if v is None else [v]
    elif (bounds := sampled_bounds(sweep)) is not None and name in bounds:
        values += [bounds[name].low, bounds[name].high]
    return values


def is_crossed(scenario: Scenario) -> bool:
    """Whether ``truce sweep`` runs the scenario's arms at every design point."""
    return bool(scenario.compare) and scenario.sweep is not None


def design_table(rows: Iterable[DesignRow]) -> list[dict[str, Any]]:
    """Plain-JSON records of a design (for the manifest)."""
    return [{"arm": r.arm, "point": r.point, "overrides": r.overrides} for r in rows]


def swept_parameters(sweep: Sweep) -> list[str]:
    """The dotted paths a sweep sets, in the order the design names them."""
    if sweep.grid is not None:
        return list(sweep.grid)
    if sweep.points is not None:
        return list(dict.fromkeys(k for point in sweep.points for k in point))
    return list(_sampled_design(sweep).bounds)


def _overlaps(a: str, b: str) -> bool:
    """Whether two dotted paths set the same value or one sets a section holding the other."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


# --------------------------------------------------------------------------- checks


def _override_problem(base: dict, overrides: Mapping[str, Any]) -> str | None:
    """Why these overrides do not give a valid scenario (None if they do)."""
    from sim.scenario.loading import apply_override
    from sim.scenario.schema import Scenario as _Scenario

    data = base
    for key, value in overrides.items():
        try:
            data = apply_override(data, key, value)
        except KeyError as exc:
            return f"unknown parameter path '{key}': {exc.args[0]}"
    try:
        _Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(map(str, err["loc"])) or (err.get("ctx") or {}).get("path", "")
        if err["type"] == "extra_forbidden":
            return f"unknown parameter path '{where}'"
        if err["type"] == "reference":
            return err["msg"]
        if err["type"] == "bool_not_number":
            ctx = err["ctx"]
            where = ".".join(filter(None, [where, ctx["name"]]))
            word = "true" if ctx["value"] else "false"
            return f"invalid value for {where}: expected a number, got {word}"
        return f"invalid value for {where}: {err['msg']} (got {_shown(err.get('input'))})"
    return None


def _culprit(base: dict, overrides: Mapping[str, Any], where: str) -> str:
    """The path of the first override that is wrong on its own (``where`` if none is)."""
    for key, value in overrides.items():
        if _override_problem(base, {key: value}):
            return f"{where}.{key}"
    return where


def check_designs(scenario: Scenario) -> Iterable[tuple[str, str]]:
    """Problems with the scenario's designs as (dotted path, message) pairs.

    Every arm is applied and validated; every swept parameter is tried at each
    grid value, each point, and both ends of its bounds.
    """
    if not scenario.compare and scenario.sweep is None:
        return
    base = _base_data(scenario)
    for arm, overrides in scenario.compare.items():
        problem = _override_problem(base, overrides)
        if problem:
            yield _culprit(base, overrides, f"compare.{arm}"), problem
    sweep = scenario.sweep
    if sweep is None:
        return
    swept = swept_parameters(sweep)
    for arm, overrides in scenario.compare.items():
        for key in overrides:
            clash = next((s for s in swept if _overlaps(key, s)), None)
            if clash is not None:
                yield (
                    f"compare.{arm}.{key}",
                    f"the arm sets '{key}' and the sweep varies '{clash}': in a crossed "
                    "design (compare: and sweep: together) arms and sweep must set "
                    "different parameters",
                )
                return
    kind = sweep.kind
    if sweep.grid is not None:
        for name, values in sweep.grid.items():
            tries = [values.low, values.high] if isinstance(values, Span) else list(values)
            ints = _integer_params(scenario, [name]) if isinstance(values, Span) else set()
            for j, v in enumerate(tries):
                problem = _override_problem(base, {name: int(round(v)) if ints else v})
                if problem:
                    where = f"sweep.grid.{name}"
                    yield (f"{where}.{j}" if isinstance(values, tuple) else where), problem
                    break
    elif sweep.points is not None:
        for i, point in enumerate(sweep.points):
            for combo in sweep_points(scenario, Sweep(points=(point,))):
                problem = _override_problem(base, combo)
                if problem:
                    yield _culprit(base, combo, f"sweep.points.{i}"), problem
                    break
    else:
        bounds = _sampled_design(sweep).bounds
        ints = _integer_params(scenario, bounds)
        for name, b in bounds.items():
            for v in (b.low, b.high):
                problem = _override_problem(base, {name: int(round(v)) if name in ints else v})
                if problem:
                    yield f"sweep.{kind}.bounds.{name}", problem
                    break
