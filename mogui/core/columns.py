"""Columns of a data file, summarised, and column selections as people type them.

Pure Python: :class:`ColumnStats` reads one column's cells (strings, as a CSV reader gives them,
or numbers) and :meth:`ColumnStats.summary` says what the column holds: its kind (numbers,
whole numbers, text or nothing), how many cells are empty, the range, mean and spread, and its
distinct values when there are few. :func:`select_columns` turns ``"f1:f8"``, ``"f1-f8"``,
``"a, b, c"`` or ``"f*"`` into the column names they mean, in the file's order.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from mogui.core.errors import DataError

ColumnKind = Literal["number", "integer", "text", "empty"]

#: Distinct values a summary keeps (and lists); a column with more has "many".
MAX_LISTED = 50

#: Cells read as empty (a missing value), whatever their case; the same set as the engine's
#: tables (:mod:`mogui.engine.plain_keras.table_columns`).
EMPTY_CELLS = frozenset({"", "nan", "na", "n/a", "null"})


@dataclass(frozen=True)
class ColumnSummary:
    """What one column (or one array of an ``.npz`` file) holds.

    ``kind``: ``integer`` when every non-empty cell is a whole number, ``number`` when all are
    numbers, ``text`` when any is not, ``empty`` when no cell holds anything. ``distinct`` counts
    the different non-empty values up to ``MAX_LISTED + 1`` (more means "many"); ``values`` lists
    them (sorted, numbers numerically) when there are at most ``MAX_LISTED``. ``width`` is the
    number of values per row (an array of shape ``(rows, 4)`` has width 4; a CSV column 1) and
    ``shape`` the per-row shape of an array.
    """

    name: str
    kind: ColumnKind
    rows: int
    missing: int
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    std: float | None = None
    distinct: int = 0
    values: tuple[str, ...] = ()
    shape: tuple[int, ...] = ()

    @property
    def labelled(self) -> int:
        """Rows with a value."""
        return self.rows - self.missing

    @property
    def width(self) -> int:
        return math.prod(self.shape) if self.shape else 1

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("number", "integer")

    @property
    def is_zero_one(self) -> bool:
        """Every value is 0 or 1 (and there is at least one)."""
        return self.kind == "integer" and self.low is not None and self.low >= 0 \
            and self.high is not None and self.high <= 1

    @property
    def is_constant(self) -> bool:
        return self.labelled > 0 and self.distinct == 1

    @property
    def many_values(self) -> bool:
        return self.distinct > MAX_LISTED

    def describe(self) -> str:
        """One line: ``number; 0 missing; 47.2 .. 175.3; mean 101, std 28.4``."""
        kind = self.kind if not self.shape else f"{self.kind} array {list(self.shape)}"
        return "; ".join([kind, f"{self.missing} missing", *self.value_parts()])

    def value_parts(self) -> list[str]:
        """What :meth:`describe` says of the values: the values (a few), range, mean."""
        parts: list[str] = []
        if self.kind == "text" or (self.is_numeric and not self.many_values
                                   and self.distinct <= 10):
            shown = ", ".join(_shown(v) for v in self.values[:10]) + \
                (", …" if len(self.values) > 10 else "")
            word = "value" if self.distinct == 1 else "values"
            parts.append(f"{self.distinct} {word}: {shown}" if not self.many_values
                         else f"more than {MAX_LISTED} values")
        if self.is_numeric and self.low is not None and self.high is not None:
            parts.append(f"{self.low:.4g} .. {self.high:.4g}")
            if self.mean is not None and self.std is not None:
                parts.append(f"mean {self.mean:.4g}, std {self.std:.4g}")
        return parts


def _shown(value: str) -> str:
    """A value as listed: quoted when it holds a comma or semicolon (which would read as two
    values) or spaces at its ends."""
    if any(c in value for c in ",;") or value != value.strip():
        return "'" + value.replace("'", "\\'") + "'"
    return value


def is_empty_cell(cell: str) -> bool:
    return cell.strip().lower() in EMPTY_CELLS


def number_of(cell: str) -> float | None:
    """The cell as a finite number, or ``None`` when it is not one."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass
class ColumnStats:
    """Accumulates one column's cells; :meth:`summary` gives its :class:`ColumnSummary`."""

    name: str
    shape: tuple[int, ...] = ()
    rows: int = 0
    missing: int = 0
    texts: int = 0
    fractions: int = 0
    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    seen: dict[str, float | None] = field(default_factory=dict)
    many: bool = False

    def add_cell(self, cell: str) -> None:
        """One cell as text (a CSV cell); empty, ``NaN``, ``NA``… count as missing."""
        self.rows += 1
        text = cell.strip()
        if text.lower() in EMPTY_CELLS:
            self.missing += 1
            return
        value = number_of(text)
        if value is None:
            self.texts += 1
        else:
            self._number(value)
        self._remember(text, value)

    def _number(self, value: float) -> None:
        if value != int(value):
            self.fractions += 1
        self.count += 1
        delta = value - self.mean
        self.mean += delta / self.count
        self.m2 += delta * (value - self.mean)
        self.low = min(self.low, value)
        self.high = max(self.high, value)

    def _remember(self, text: str, value: float | None) -> None:
        if self.many or text in self.seen:
            return
        if len(self.seen) >= MAX_LISTED:
            self.many = True
            return
        self.seen[text] = value

    def summary(self) -> ColumnSummary:
        kind: ColumnKind
        if self.rows == self.missing:
            kind = "empty"
        elif self.texts:
            kind = "text"
        elif self.fractions:
            kind = "number"
        else:
            kind = "integer"
        numeric = kind in ("number", "integer")
        values = list(self.seen)
        if numeric:  # one spelling per number ("1" and "1.0" are one value)
            by_value: dict[float, str] = {}
            for text in values:
                value = self.seen[text]
                assert value is not None
                by_value.setdefault(value, text)
            values = [by_value[v] for v in sorted(by_value)]
        else:
            values.sort()
        distinct = MAX_LISTED + 1 if self.many else len(values)
        return ColumnSummary(
            name=self.name, kind=kind, rows=self.rows, missing=self.missing,
            low=self.low if numeric else None, high=self.high if numeric else None,
            mean=self.mean if numeric else None,
            std=math.sqrt(self.m2 / self.count) if numeric and self.count else None,
            distinct=distinct, values=tuple(values) if not self.many else (),
            shape=self.shape)


def summarize_rows(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[ColumnSummary]:
    """Summaries of every column of a table given as rows of text cells."""
    stats = [ColumnStats(name) for name in header]
    for row in rows:
        for column, cell in zip(stats, row, strict=False):
            column.add_cell(cell)
    return [s.summary() for s in stats]


# -- selections --------------------------------------------------------------------------------

def select_columns(text: str, header: Sequence[str], what: str = "column") -> list[str]:
    """The columns ``text`` names, in the order written, each once.

    Items are separated by commas (or spaces); an item is a column name, a range of columns in
    the file's order (``f1:f8`` or ``f1-f8``, both ends included), or a pattern (``f*``,
    ``sensor_?``). A name holding ``-`` or ``:`` itself is taken as a name first. Raises
    :class:`DataError` naming what matches nothing.
    """
    chosen: list[str] = []
    items = [item for part in text.split(",") for item in _split_spaces(part, header)]
    if not items:
        raise DataError(f"No {what} given: name one or more columns, e.g. 'f1:f8' or 'a, b'.")
    for item in items:
        for name in _one_item(item, header, what):
            if name not in chosen:
                chosen.append(name)
    return chosen


def _split_spaces(part: str, header: Sequence[str]) -> list[str]:
    """``"a b"`` is two items unless a column is called ``a b``."""
    part = part.strip()
    if not part:
        return []
    if part in header:
        return [part]
    return part.split()


def _one_item(item: str, header: Sequence[str], what: str) -> list[str]:
    if item in header:
        return [item]
    if any(ch in item for ch in "*?["):
        found = [name for name in header if fnmatch.fnmatchcase(name, item)]
        if found:
            return found
        raise DataError(f"The {what} pattern '{item}' matches no column. The columns are "
                        f"{_listing(header)}.")
    for separator in (":", "-", ".."):
        if separator in item:
            first, _, last = item.partition(separator)
            first, last = first.strip(), last.strip()
            if first in header and last in header:
                i, j = header.index(first), header.index(last)
                if i > j:
                    raise DataError(f"The {what} range '{item}' runs backwards: '{first}' comes "
                                    f"after '{last}' in the file. Write '{last}{separator}"
                                    f"{first}'.")
                return list(header[i:j + 1])
            unknown = [end for end in (first, last) if end and end not in header]
            if unknown and all(end for end in (first, last)):
                raise DataError(f"The {what} range '{item}' names "
                                f"{' and '.join(repr(u) for u in unknown)}, which "
                                f"{'is' if len(unknown) == 1 else 'are'} not a column. The "
                                f"columns are {_listing(header)}.")
    raise DataError(f"There is no column '{item}' for the {what}. The columns are "
                    f"{_listing(header)}.")


def _listing(header: Sequence[str]) -> str:
    shown = ", ".join(repr(h) for h in header[:30])
    return shown + (f" and {len(header) - 30} more" if len(header) > 30 else "")
