"""SoVei search service: hybrid ranking over the index the indexer wrote, JSON API and search page."""
