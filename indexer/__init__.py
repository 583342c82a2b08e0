"""SoVei indexer: corpus files → chunks → embeddings → one index folder (tantivy + FAISS + chunk table)."""

__version__ = "0.1.0"
