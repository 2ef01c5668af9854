"""A long table split by the word splitter keeps its header in every chunk."""

from haystack import Document

from knowledge.indexing import build_preprocessing_pipeline

HEADER = "| Setting | Limit |"
RULE = "| --- | --- |"


def chunks_of(markdown: str) -> list[str]:
    splitter = build_preprocessing_pipeline().get_component("splitter")
    tables = build_preprocessing_pipeline().get_component("tables")
    split = splitter.run(documents=[Document(content=markdown, meta={"source_id": "specs"})])
    return [d.content or "" for d in tables.run(documents=split["documents"])["documents"]]


def test_every_chunk_of_a_long_table_starts_its_rows_under_the_header() -> None:
    rows = "\n".join(f"| Option {i} | up to {i} devices in room {i} |" for i in range(80))
    chunks = chunks_of(f"# Limits\n\nThe hub's limits.\n\n{HEADER}\n{RULE}\n{rows}\n")
    assert len(chunks) > 3
    for chunk in chunks:
        lines = chunk.split("\n")
        first_row = next(i for i, line in enumerate(lines) if line.startswith("| Option"))
        assert lines[first_row - 2 : first_row] == [HEADER, RULE], chunk[:200]
    assert "| Option 79 | up to 79 devices in room 79 |" in chunks[-1]


def test_prose_after_a_table_gets_no_header_and_short_tables_are_untouched() -> None:
    rows = "\n".join(f"| Option {i} | up to {i} devices |" for i in range(3))
    prose = " ".join(["After the table the text goes on about other things."] * 40)
    chunks = chunks_of(f"# Limits\n\n{HEADER}\n{RULE}\n{rows}\n\n{prose}\n")
    assert chunks[0].count(HEADER) == 1
    assert all(HEADER not in chunk for chunk in chunks[1:])
