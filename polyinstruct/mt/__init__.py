"""Machine-translation evaluation: test sets, k-shot prompts, sacrebleu and COMET (rules/mt.smk)."""
