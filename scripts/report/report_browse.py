from polyinstruct.report import browse
from polyinstruct.workflow.job import job

with job(snakemake):
    catalog = browse.write_site(dict(snakemake.params.layout), snakemake.output.index)
    chunks = catalog["chunks"].values()
    print(
        f"answer browser: {len(chunks)} eval set x language chunks, {sum(c['bytes'] for c in chunks)} bytes of data"
        f"{' (inlined)' if catalog['inlined'] else ''}, {len(catalog['runs'])} runs"
    )
