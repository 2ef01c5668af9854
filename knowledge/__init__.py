"""Knowledge base: sources, indexing, incremental sync, document stores, answering."""
