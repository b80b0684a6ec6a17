"""Language mixtures and cross-lingual instructions (rules/mixtures.smk)."""
