"""H2OTwoDimTable: h2o-py's small result table (a header, column names, rows of cells).

Returned where h2o-py returns one (a model's summary, hit ratios, scoring history as a table, a
frame's summary); `as_data_frame()` gives pandas, printing gives aligned text and a notebook
shows it as HTML.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any


def _cell_text(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


class H2OTwoDimTable:
    """A table of `cell_values` (a list of rows) under `col_header`, titled `table_header`."""

    def __init__(self, table_header: str | None = None, table_description: str | None = None,
                 col_header: Sequence[str] | None = None, col_types: Sequence[str] | None = None,
                 cell_values: Sequence[Sequence[Any]] | None = None, raw_cell_values: Any = None,
                 col_formats: Sequence[str] | None = None):
        self._table_header = table_header or ""
        self._table_description = table_description or ""
        self._col_header = list(col_header or [])
        self._cell_values = [list(r) for r in (cell_values or [])]
        self._col_types = list(col_types or [self._guess_type(j) for j in range(len(self._col_header))])
        self._col_formats = list(col_formats or [])
        for r in self._cell_values:
            if len(r) != len(self._col_header):
                raise ValueError(f"a row of {len(r)} cells under {len(self._col_header)} column names")

    @classmethod
    def from_data_frame(cls, df: Any, table_header: str | None = None,
                        table_description: str | None = None) -> H2OTwoDimTable:
        """A table of a pandas DataFrame's columns and rows (the index is not kept)."""
        rows = [[_plain(v) for v in r] for r in df.itertuples(index=False, name=None)]
        return cls(table_header, table_description, [str(c) for c in df.columns], cell_values=rows)

    def _guess_type(self, j: int) -> str:
        vals = [r[j] for r in self._cell_values if r[j] is not None]
        if vals and all(isinstance(v, bool | int) for v in vals):
            return "long"
        if vals and all(isinstance(v, int | float) for v in vals):
            return "double"
        return "string"

    # h2o-py's accessors
    @property
    def table_header(self) -> str:
        return self._table_header

    @property
    def table_description(self) -> str:
        return self._table_description

    @property
    def col_header(self) -> list[str]:
        return list(self._col_header)

    @property
    def col_types(self) -> list[str]:
        return list(self._col_types)

    @property
    def cell_values(self) -> list[list[Any]]:
        return [list(r) for r in self._cell_values]

    @property
    def nrows(self) -> int:
        return len(self._cell_values)

    @property
    def ncols(self) -> int:
        return len(self._col_header)

    def __len__(self) -> int:
        return self.nrows

    def __getitem__(self, item: int | str | Sequence[int | str]) -> Any:
        """A column's values by name or position (h2o-py's table["col"]), or a table of several."""
        if isinstance(item, int | str):
            return [r[self._col(item)] for r in self._cell_values]
        idx = [self._col(i) for i in item]
        return H2OTwoDimTable(self._table_header, self._table_description,
                              [self._col_header[j] for j in idx], [self._col_types[j] for j in idx],
                              [[r[j] for j in idx] for r in self._cell_values])

    def _col(self, key: int | str) -> int:
        if isinstance(key, int):
            if not -self.ncols <= key < self.ncols:
                raise IndexError(f"column {key} out of range (the table has {self.ncols})")
            return key % self.ncols
        if key not in self._col_header:
            raise KeyError(f"no column {key!r} in table (columns: {', '.join(self._col_header)})")
        return self._col_header.index(key)

    def as_data_frame(self):
        """The table as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self._cell_values, columns=self._col_header)

    def _text(self, rows: int = 20) -> str:
        shown = self._cell_values[:rows]
        grid = [self._col_header] + [[_cell_text(v) for v in r] for r in shown]
        widths = [max(len(g[j]) for g in grid) for j in range(self.ncols)] if self.ncols else []
        lines = [self._table_header + (f": {self._table_description}" if self._table_description else "")]
        for g in grid:
            lines.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(g, widths))))
        if self.nrows > rows:
            lines.append(f"[{self.nrows} rows x {self.ncols} columns; showing the first {rows}]")
        return "\n".join(line for line in lines if line is not None).strip("\n")

    def show(self, header: bool = True) -> None:
        """Print the table as aligned text."""
        print(self._text() if header else self._text().split("\n", 1)[-1])

    def __repr__(self) -> str:
        return self._text()

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self._col_header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell_text(v))}</td>" for v in r) + "</tr>"
                       for r in self._cell_values[:100])
        title = f"<b>{html.escape(self._table_header)}</b>" if self._table_header else ""
        if self._table_description:
            title += f" <i>{html.escape(self._table_description)}</i>"
        more = f"<p>[{self.nrows} rows x {self.ncols} columns]</p>" if self.nrows > 100 else ""
        return f"{title}<table class='h2o-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _plain(v: Any) -> Any:
    """numpy scalars to Python ones, so cells print and compare plainly."""
    return v.item() if hasattr(v, "item") and not isinstance(v, str) else v
