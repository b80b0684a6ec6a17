"""LLM-as-judge: protocols (what is asked and how answers parse) and backends (who answers)."""
