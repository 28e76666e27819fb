"""Frames as compressed row chunks: parse setup, streaming parse, chunk encodings, summaries.

A pure library (no network): the node stores a frame as its FrameHeader plus one key per
Chunk, and runs the map/reduce functions of ``summary`` over the chunks it holds.
"""

from h2ocloud.frame.chunk import (
    ENUM,
    NUMERIC,
    STRING,
    Chunk,
    EncodedColumn,
    decode_column,
    encode_column,
)
from h2ocloud.frame.errors import ParseError
from h2ocloud.frame.export import column_values, to_pandas
from h2ocloud.frame.header import FrameHeader
from h2ocloud.frame.parse import default_chunk_rows, parse_file, parse_table
from h2ocloud.frame.setup import ParseSetup, guess_setup
from h2ocloud.frame.summary import (
    Histograms,
    Rollups,
    histogram_map,
    histogram_reduce,
    rollup_finish,
    rollup_map,
    rollup_reduce,
    split_rows,
    summary,
    take_columns,
)

__all__ = [
    "ENUM", "NUMERIC", "STRING", "Chunk", "EncodedColumn", "FrameHeader", "Histograms",
    "ParseError", "ParseSetup", "Rollups", "decode_column", "default_chunk_rows",
    "encode_column", "guess_setup", "histogram_map", "histogram_reduce", "parse_file",
    "parse_table", "rollup_finish", "rollup_map", "rollup_reduce", "split_rows", "summary",
    "take_columns", "column_values", "to_pandas",
]


def __getattr__(name: str):
    """`from h2ocloud.frame import H2OFrame`, as h2o-py's `h2o.frame.H2OFrame`. Looked up lazily:
    this package is the node's pure frame library, and the client imports it, so importing the
    client here at load time would be an import cycle."""
    if name == "H2OFrame":
        from h2ocloud.client.frame import H2OFrame

        return H2OFrame
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
