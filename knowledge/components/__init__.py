"""Our Haystack components, one per module, by role (as haystack/components/<role>/):
converting (`docx_converter`), preprocessing (`chunk_annotator`), embedding
(`embedders`: the configured document and text embedders), joining (`score_fusion`),
ranking (`update_boost`) and retrieving (`retriever`: a SuperComponent)."""
