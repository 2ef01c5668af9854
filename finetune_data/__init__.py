"""The learning loop: harvesting rated exchanges, curation, datasets, training, evaluation."""
