"""What a cluster job sees and how distributed jobs start (rules/cluster.smk)."""
