import pytest
from haystack import Document

from knowledge.components.score_fusion import ScoreFusion


def doc(doc_id: str, score: float, source: str = "a") -> Document:
    return Document(id=doc_id, content=doc_id, score=score, meta={"source": source})


def ids(documents: list[Document]) -> list[str]:
    return [d.id for d in documents]


def test_bm25_only_keeps_its_order() -> None:
    fusion = ScoreFusion(bm25_weight=0.7, coherence_weight=0)
    result = fusion.run(bm25_documents=[doc("x", 12.0), doc("y", 6.0)], embedding_documents=[])
    assert ids(result["documents"]) == ["x", "y"]
    assert result["documents"][0].score == pytest.approx(0.7)
    assert result["documents"][1].score == pytest.approx(0.35)


def test_scores_are_normalised_per_query_then_weighted() -> None:
    fusion = ScoreFusion(bm25_weight=0.7, coherence_weight=0)
    result = fusion.run(
        bm25_documents=[doc("lexical", 30.0), doc("both", 15.0)],
        embedding_documents=[doc("both", 0.9), doc("semantic", 0.8)],
    )
    scores = {d.id: d.score for d in result["documents"]}
    assert scores["lexical"] == pytest.approx(0.7)
    assert scores["both"] == pytest.approx(0.35 + 0.27)
    assert scores["semantic"] == pytest.approx(0.24)
    assert ids(result["documents"]) == ["lexical", "both", "semantic"]


def test_agreement_between_retrievers_wins() -> None:
    fusion = ScoreFusion(bm25_weight=0.5, coherence_weight=0)
    result = fusion.run(
        bm25_documents=[doc("only_bm25", 10.0), doc("both", 9.0)],
        embedding_documents=[doc("both", 0.7), doc("only_dense", 0.75)],
    )
    assert ids(result["documents"])[0] == "both"


def test_coherence_lifts_the_dominant_collection() -> None:
    bm25 = [
        doc("a1", 10.0, "tv"),
        doc("p1", 9.9, "phone"),
        doc("a2", 9.0, "tv"),
        doc("a3", 8.5, "tv"),
    ]
    without = ScoreFusion(coherence_weight=0).run(bm25_documents=bm25, embedding_documents=[])
    with_coherence = ScoreFusion(coherence_weight=0.5).run(
        bm25_documents=bm25, embedding_documents=[]
    )
    assert ids(without["documents"])[:2] == ["a1", "p1"]
    assert ids(with_coherence["documents"])[:3] == ["a1", "a2", "a3"]


def test_a_verified_answer_without_a_product_is_not_outweighed_by_the_dominant_one() -> None:
    bm25 = [
        Document(id=f"m{i}", content="m", score=10.0 - i, meta={"product": "Hub"}) for i in range(5)
    ]
    verified = Document(
        id="v", content="v", score=9.5, meta={"kind": "verified_answer", "source": "verified"}
    )
    fused = ScoreFusion(coherence_weight=2.0).run(
        bm25_documents=[*bm25[:1], verified, *bm25[1:]], embedding_documents=[]
    )
    assert ids(fused["documents"])[:2] == ["m0", "v"]


def test_top_k_and_empty_inputs() -> None:
    fusion = ScoreFusion()
    assert fusion.run(bm25_documents=[], embedding_documents=[])["documents"] == []
    result = fusion.run(
        bm25_documents=[doc(str(i), 10.0 - i) for i in range(8)], embedding_documents=[], top_k=3
    )
    assert ids(result["documents"]) == ["0", "1", "2"]
