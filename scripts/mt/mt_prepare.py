from polyinstruct.io import write_jsonl, write_text
from polyinstruct.mt import mt_eval
from polyinstruct.workflow.job import job

with job(snakemake):
    w, spec = snakemake.wildcards, snakemake.params.spec
    paths = {k: snakemake.input[k] for k in snakemake.input.keys()}
    items = mt_eval.prepare(paths, spec, snakemake.params.seed, w.src, w.tgt)
    write_jsonl(snakemake.output.segments, items)
    write_text(snakemake.output.source, "".join(item["source"] + "\n" for item in items))
    write_text(snakemake.output.reference, "".join(item["reference"] + "\n" for item in items))
