from polyinstruct.report import fidelity
from polyinstruct.workflow.job import job

with job(snakemake):
    out, s = snakemake.output, snakemake.params.settings
    fidelity.write_report(
        list(snakemake.input.langid),
        out.csv,
        out.markdown,
        out.figure,
        out.comparisons,
        snakemake.params.title,
        s["confidence"],
        s["reference"],
    )
