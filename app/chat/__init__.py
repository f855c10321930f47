"""The chat engine: sessions, streaming, message building, the history model, the tool loop, export/import."""
