"""polyinstruct: the logic behind the Snakemake rules (one module per concept)."""
