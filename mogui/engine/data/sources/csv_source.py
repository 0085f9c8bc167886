"""CSV tables: chosen columns for each input and each head, in memory or streamed in chunks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mogui.core.project import CsvData, Project
from mogui.engine.data.dataset import Dataset
from mogui.engine.data.sources.arrow_table import count_rows, read_chunks
from mogui.engine.data.sources.streaming import StreamingDataset, concat, should_stream
from mogui.engine.data.sources.table import ChunkConverter, read_header


class CsvTable(StreamingDataset):
    """A CSV source read ``chunk_rows`` rows at a time; never holds more than one chunk."""

    def __init__(self, project: Project, source: CsvData, path: Path) -> None:
        self.project = project
        self.source = source
        self.path = path
        self.label = f"'{path.name}'"
        self.chunk_rows = source.chunk_rows
        self.header = read_header(path, source.delimiter)
        self.converter = ChunkConverter(project, self.header, source.inputs, source.targets,
                                        path)
        self._rows: int | None = None
        self.max_rows_held = 0

    @property
    def num_samples(self) -> int:
        if self._rows is None:
            self._rows = count_rows(self.path, self.source.delimiter)
        return self._rows

    def iter_chunks(self) -> Iterator[tuple[int, Dataset]]:
        numbers, names = self.converter.column_kinds()
        for chunk in read_chunks(self.path, self.source.delimiter, self.chunk_rows, numbers,
                                 names):
            self.max_rows_held = max(self.max_rows_held, chunk.num_rows)
            yield chunk.start, self.converter.convert(chunk)

    def load(self) -> Dataset:
        """Every row in memory."""
        return concat([chunk for _start, chunk in self.iter_chunks()])


def open_csv(project: Project, source: CsvData, path: Path) -> Dataset | CsvTable:
    """The table in memory, or a streaming :class:`CsvTable` for large files (or on request)."""
    table = CsvTable(project, source, path)
    if should_stream(source.streaming, path.stat().st_size):
        return table
    return table.load()
