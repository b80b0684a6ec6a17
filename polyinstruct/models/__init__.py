"""Base models: preparing, loading, prompt formats (rules/models.smk)."""
