"""lm-evaluation-harness tasks of every run (rules/lm_eval.smk)."""
