"""Language ID, LLM judges, gating, surface metrics, agreement (rules/score.smk)."""
