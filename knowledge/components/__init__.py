"""Our Haystack components, one per module, by role (as haystack/components/<role>/):
converting (`docx_converter`), preprocessing (`table_headers`, `chunk_annotator`),
embedding (`embedders`: the configured document and text embedders), querying
(`lexical_query`: BM25's side of a question), joining (`score_fusion`), ranking
(`update_boost`, `source_coherence`) and retrieving (`retriever`: a SuperComponent;
`weaviate_hybrid`)."""
