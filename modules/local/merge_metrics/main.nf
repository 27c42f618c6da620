process MERGE_METRICS {
    label 'process_single'

    conda "conda-forge::python=3.11.7"
    // One image for every process: the CUDA build, which CI builds and runs (it also runs on the
    // CPU). The smaller CPU-only image (containers/Dockerfile.cpu) can replace it through config.
    container "${ workflow.containerEngine in ['singularity', 'apptainer'] && !task.ext.singularity_pull_docker_container ?
        'oras://ghcr.io/scdefer/scdefer:0.1.0-sif' :
        'ghcr.io/scdefer/scdefer:0.1.0' }"

    input:
    val(samples)   // sample ids, sorted
    path(metrics, stageAs: 'metrics/metrics_??.json')

    output:
    path "all_metrics.tsv", emit: tsv

    when:
    task.ext.when == null || task.ext.when

    script:
    def pairs = [samples, metrics instanceof List ? metrics : [metrics]].transpose().collect { s, f -> "'${s}=${f}'" }.join(' ')
    """
    scdefer_merge_metrics.py all_metrics.tsv ${pairs}
    """

    stub:
    """
    touch all_metrics.tsv
    """
}
