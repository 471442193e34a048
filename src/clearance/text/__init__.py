"""Text handling for prompt screening: normalisation, embeddings, prompt rewriting."""
