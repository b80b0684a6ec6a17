"""Reading sources (local files, URLs, the hub) into polyinstruct's record schemas (rules/data.smk)."""
