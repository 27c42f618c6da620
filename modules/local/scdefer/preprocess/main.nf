process SCDEFER_PREPROCESS {
    tag "$meta.id"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"
    // One image for every process: the CUDA build, which CI builds and runs (it also runs on the
    // CPU). The smaller CPU-only image (containers/Dockerfile.cpu) can replace it through config.
    container "${ workflow.containerEngine in ['singularity', 'apptainer'] && !task.ext.singularity_pull_docker_container ?
        'oras://ghcr.io/scdefer/scdefer:0.1.0-sif' :
        'ghcr.io/scdefer/scdefer:0.1.0' }"

    input:
    tuple val(meta), path(counts)

    output:
    tuple val(meta), path("${prefix}.h5ad"), emit: h5ad
    path "versions.yml"                    , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}_prep"
    if ("${counts}" == "${prefix}.h5ad") error "SCDEFER_PREPROCESS: input and output names are the same; set ext.prefix"
    """
    export MPLCONFIGDIR=./tmp/mpl NUMBA_CACHE_DIR=./tmp/numba TORCHINDUCTOR_CACHE_DIR=./tmp/torchinductor
    scdefer preprocess \\
        '${counts}' \\
        -o '${prefix}.h5ad' \\
        --threads ${task.cpus} \\
        ${args}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scdefer: \$(scdefer --version | sed 's/scdefer //')
    END_VERSIONS
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}_prep"
    """
    touch '${prefix}.h5ad'

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scdefer: \$(scdefer --version | sed 's/scdefer //')
    END_VERSIONS
    """
}
