process SCDEFER_EVALUATE {
    tag "$meta.id"
    label 'process_low'

    conda "${moduleDir}/environment.yml"
    // One image for every process: the CUDA build, which CI builds and runs (it also runs on the
    // CPU). The smaller CPU-only image (containers/Dockerfile.cpu) can replace it through config.
    container "${ workflow.containerEngine in ['singularity', 'apptainer'] && !task.ext.singularity_pull_docker_container ?
        'oras://ghcr.io/scdefer/scdefer:0.1.0-sif' :
        'ghcr.io/scdefer/scdefer:0.1.0' }"

    input:
    tuple val(meta), path(h5ad)

    output:
    tuple val(meta), path("${prefix}_report")              , emit: report
    tuple val(meta), path("${prefix}_report/metrics.json") , emit: metrics
    path "versions.yml"                                    , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    export MPLCONFIGDIR=./tmp/mpl NUMBA_CACHE_DIR=./tmp/numba
    scdefer evaluate \\
        '${h5ad}' \\
        --label-key '${meta.label_key}' \\
        -o '${prefix}_report' \\
        --threads ${task.cpus} \\
        ${args}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scdefer: \$(scdefer --version | sed 's/scdefer //')
    END_VERSIONS
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    mkdir -p '${prefix}_report'
    echo '{}' > '${prefix}_report/metrics.json'

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scdefer: \$(scdefer --version | sed 's/scdefer //')
    END_VERSIONS
    """
}
