"""`supportbot pairs import`: existing Q&A pairs become curated pairs with sources."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlmodel import Session, select

from finetune_data.datasets import export
from finetune_data.importing import SAMPLE_PAIRS, import_pairs, read_records
from knowledge.stores import open_document_store
from supportbot import db
from supportbot.models import PairOrigin, PairStatus, QAPair
from supportbot.settings import Settings
from tests.support.cli import supportbot


def _engine(tmp_path: Path):
    engine = db.create_db_engine(f"sqlite:///{tmp_path}/t.db")
    db.upgrade(engine)
    return engine


def test_bad_lines_are_reported_with_their_numbers_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "faq.jsonl"
    lines = [
        json.dumps({"question": "How do I reset it?", "answer": "Hold Reset [1]."}),
        "{not json",
        json.dumps({"question": "  ", "answer": "x"}),
        json.dumps({"question": "Q?", "answer": "A", "context": [{"title": "no text"}]}),
        "",
        json.dumps(["a list"]),
        json.dumps({"question": "Warranty?", "answer": "Two years.", "product": "Hub"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    records, problems = read_records(path)
    assert [r.question for r in records] == ["How do I reset it?", "Warranty?"]
    assert records[1].product == "Hub"
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 3", "line 4", "line 6"]
    assert "question is missing or empty" in problems[1]


def test_import_approves_scrubs_retrieves_sources_and_skips_known_questions(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path)
    path = tmp_path / "faq.jsonl"
    path.write_text(
        json.dumps({"question": "How do I reset it?", "answer": "Mail jane.doe@example.com [1]."})
        + "\n"
        + json.dumps(
            {
                "question": "Given context?",
                "answer": "Yes [1].",
                "context": [{"title": "T", "section": None, "date": None, "text": "Yes."}],
            }
        )
        + "\n"
    )
    records, _ = read_records(path)
    asked: list[tuple[str, str | None]] = []
    indexed: list[int] = []

    def sources(question: str, product: str | None) -> list[dict]:
        asked.append((question, product))
        return [{"title": "Manual", "section": "Reset", "date": None, "text": "Hold Reset."}]

    report = import_pairs(
        engine, records, "cli:lead", sources=sources, index=lambda p, _: indexed.append(p.id)
    )
    assert len(report.added) == 2
    assert asked == [("How do I reset it?", None)], "given context is kept, not re-retrieved"
    assert indexed == report.added, "approved pairs become verified answers at once"
    with Session(engine) as session:
        pairs = session.exec(select(QAPair).order_by(QAPair.id)).all()
    assert all(p.status == PairStatus.APPROVED and p.origin == PairOrigin.IMPORTED for p in pairs)
    assert pairs[0].decided_by == "cli:lead"
    assert "jane.doe@example.com" not in pairs[0].answer
    assert pairs[0].context[0]["section"] == "Reset"
    assert pairs[1].context[0]["title"] == "T"

    again = import_pairs(engine, read_records(path)[0], "cli:lead", sources=sources)
    assert (again.added, again.duplicates) == ([], 2)


def test_a_failing_retrieval_still_imports_the_pair_and_says_so(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    path = tmp_path / "faq.jsonl"
    path.write_text(json.dumps({"question": "Q?", "answer": "A."}) + "\n")

    def broken(question: str, product: str | None) -> list[dict]:
        raise ConnectionError("store down")

    report = import_pairs(engine, read_records(path)[0], "cli:x", approve=False, sources=broken)
    assert len(report.added) == 1
    assert "store down" in report.problems[0]
    with Session(engine) as session:
        [pair] = session.exec(select(QAPair)).all()
    assert pair.status == PairStatus.CANDIDATE
    assert pair.context == []


def test_cli_imports_the_shipped_sample_with_retrieved_sources(
    sample_knowledge: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(sample_knowledge, data_dir)  # the import indexes verified answers
    env = {"SUPPORTBOT_DATA_DIR": str(data_dir)}
    result = supportbot("pairs", "import", "--sample", "--by", "lead@example.com", env=env)
    assert result.returncode == 0, result.stderr
    expected = len(SAMPLE_PAIRS.read_text().splitlines())
    assert f"{expected} pairs imported (approved), 0 already present" in result.stdout

    engine = db.create_db_engine(f"sqlite:///{data_dir}/supportbot.db")
    with Session(engine) as session:
        pairs = session.exec(select(QAPair)).all()
    reset = next(p for p in pairs if p.question == "How do I factory reset the hub?")
    assert "Factory reset" in (reset.context[0]["section"] or "")
    assert all(p.scope == {"products": ["Nimbus Hub"]} and len(p.context) >= 1 for p in pairs)
    exported = export(engine, tmp_path / "datasets")
    assert exported.problems == [], "the sample alone is enough for a valid dataset"

    again = supportbot("pairs", "import", "--sample", env=env)
    assert f"0 pairs imported (approved), {expected} already present" in again.stdout
    store = open_document_store(Settings(data_dir=data_dir))
    verified = store.filter_documents(
        {"field": "meta.kind", "operator": "==", "value": "verified_answer"}
    )
    assert len(verified) == expected, "approved on import, so indexed as verified answers"
    assert {d.meta["product"] for d in verified} == {"Nimbus Hub"}, "found by scoped searches"


def test_cli_import_needs_a_file_or_the_sample(tmp_path: Path) -> None:
    result = supportbot("pairs", "import", env={"SUPPORTBOT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "--sample" in result.stderr
