"""Tables and figures of the whole experiment (rules/report.smk)."""
