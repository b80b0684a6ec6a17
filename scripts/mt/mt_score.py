from polyinstruct.io import write_json
from polyinstruct.mixtures import crosslingual
from polyinstruct.mt import mt_eval
from polyinstruct.workflow.job import job

with job(snakemake):
    w = snakemake.wildcards
    hypotheses = crosslingual.read_lines(snakemake.input.hypotheses)
    references = crosslingual.read_lines(snakemake.input.reference)
    scores = mt_eval.score(hypotheses, references, w.tgt, snakemake.params.settings)
    write_json(
        snakemake.output.scores,
        {
            "run": snakemake.params.run,
            "testset": w.testset,
            "src": w.src,
            "tgt": w.tgt,
            "segments": len(hypotheses),
            "metrics": scores,
            "files": {"hypotheses": snakemake.input.hypotheses, "reference": snakemake.input.reference},
        },
    )
