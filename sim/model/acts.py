"""The day's acts table: one row per channel that can produce a violation.

Agents reserve their rows (channels) when they are built; the table is laid
out once, so every array keeps its shape from day to day and every random
stream draws the same amount whatever the levers (common random numbers).

Only the fields of the acts that fired are ever read: the mask, the mission, the
joint commissions, perception, the tally and the trace read ``actor``, ``target``,
``blamed``, ``culprit``, ``origin``, ``weight``, ``wrong``, ``admitted`` and
``theatre`` of an act where it fired, or combine them with ``fired`` so that an act
that did not fire counts for nothing (``tests/test_kernels.py::
test_the_fields_of_acts_that_did_not_fire_are_never_read`` fills them with random
values and finds every result unchanged). The agents' methods write every field of
their rows each day; the compiled day (:mod:`sim.model._compiled`) writes ``fired``
for every row and the other fields where an act fired alone, and resets ``fired``
alone (:meth:`Acts.reset` is the agents' day's). One read of an unfired act is left,
and it reads a constant: the tally's first violator when every act that fired has
priority 0 (``np.argmax`` of zeros) is ``actor`` of row 0, the government's first
deliberate act, whose actor is the government (0) whether written or not.

The integer fields are int64 for the agents' day (NumPy arithmetic on them stays in
range); the compiled day narrows them (:meth:`Acts.cast`) to the smallest integer type
that holds every value they can take, so that the tables of a wide chunk stay in cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Channel:
    """Rows of the acts table reserved by one agent for one kind of act."""

    kind: str
    rows: int
    answer: bool = False
    slice: slice = field(default_factory=lambda: slice(0, 0))
    #: The theatre of each row when it is fixed for the truce (None: set day by day).
    theatres: np.ndarray | None = None


@dataclass
class Acts:
    """The day's possible violations: one row per channel, one column per replicate.

    Build it with :meth:`reserve` (once per channel), then :meth:`lay_out`:
    first acts take the first rows in the order they were reserved, answers
    (retaliations) the rows after them.
    """

    r: int
    n: int = 0
    channels: list[Channel] = field(default_factory=list)
    fired: np.ndarray = field(init=False)
    actor: np.ndarray = field(init=False)
    target: np.ndarray = field(init=False)
    blamed: np.ndarray = field(init=False)
    culprit: np.ndarray = field(init=False)
    origin: np.ndarray = field(init=False)
    wrong: np.ndarray = field(init=False)
    admitted: np.ndarray = field(init=False)
    theatre: np.ndarray = field(init=False)
    weight: np.ndarray = field(init=False)
    retaliation: np.ndarray = field(init=False)
    kind: list[str] = field(init=False)

    def reserve(
        self, kind: str, rows: int, answer: bool = False, theatres: np.ndarray | None = None
    ) -> Channel:
        """Reserve ``rows`` rows for one channel; its slice is set by :meth:`lay_out`.

        Args:
            kind: the channel's name (shown in traces).
            rows: how many acts a day it can produce.
            answer: whether its acts are answers (retaliations), laid out after first acts.
            theatres: the theatre of each row when fixed for the truce; else the agent
                writes ``theatre`` each day.
        """
        channel = Channel(kind, rows, answer, theatres=theatres)
        self.channels.append(channel)
        return channel

    def lay_out(self) -> None:
        """Assign every channel its rows and allocate the arrays."""
        start = 0
        for answers in (False, True):
            for channel in self.channels:
                if channel.answer == answers:
                    channel.slice = slice(start, start + channel.rows)
                    start += channel.rows
        self.n = start
        shape = (self.n, self.r)
        self.fired = np.zeros(shape, bool)
        self.actor = np.zeros(shape, np.int64)
        self.target = np.zeros(shape, np.int64)
        self.blamed = np.full(shape, -1, np.int64)
        self.culprit = np.full(shape, -1, np.int64)
        self.origin = np.zeros(shape, np.int64)
        self.wrong = np.zeros(shape, bool)
        self.admitted = np.zeros(shape, bool)
        self.theatre = np.zeros(shape, np.int64)
        # Violations an act counts as: 1, or a party's war tempo (E2b).
        self.weight = np.ones(shape, np.int64)
        self.retaliation = np.zeros(self.n, bool)
        self.kind = [""] * self.n
        for channel in self.channels:
            self.retaliation[channel.slice] = channel.answer
            self.kind[channel.slice] = [channel.kind] * channel.rows
            if channel.theatres is not None:
                self.theatre[channel.slice] = np.asarray(channel.theatres)[:, None]

    #: The integer fields (the others are booleans), in the type :meth:`cast` gives them.
    INTEGERS = ("actor", "target", "blamed", "culprit", "origin", "theatre", "weight")

    def cast(self, dtype: type[np.signedinteger]) -> bool:
        """Hold the integer fields (:data:`INTEGERS`) as ``dtype``, values kept.

        The values must fit ``dtype``: the caller picks it from the model's sizes.

        Returns:
            Whether any field was replaced by a new array.
        """
        replaced = False
        for name in self.INTEGERS:
            value = getattr(self, name)
            if value.dtype != dtype:
                setattr(self, name, value.astype(dtype))
                replaced = True
        return replaced

    def reset(self) -> None:
        """Clear the per-day fields before a new day."""
        self.fired[:] = False
        self.blamed[:] = -1
        self.culprit[:] = -1
        self.wrong[:] = False
        self.admitted[:] = False
