process SCDEFER_PREDICT {
    tag "$meta.id"
    label 'process_medium'
    label 'process_gpu'

    conda "${moduleDir}/environment.yml"
    container "${ workflow.containerEngine in ['singularity', 'apptainer'] && !task.ext.singularity_pull_docker_container ?
        'oras://ghcr.io/scdefer/scdefer:0.1.0-sif' :
        'ghcr.io/scdefer/scdefer:0.1.0' }"

    input:
    tuple val(meta), path(cells)
    path model

    output:
    tuple val(meta), path("${prefix}.h5ad"), emit: h5ad
    path "versions.yml"                    , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}_scdefer"
    def device = task.accelerator ? 'cuda' : 'cpu'
    if ("${cells}" == "${prefix}.h5ad") error "SCDEFER_PREDICT: input and output names are the same; set ext.prefix"
    """
    export MPLCONFIGDIR=./tmp/mpl NUMBA_CACHE_DIR=./tmp/numba TORCHINDUCTOR_CACHE_DIR=./tmp/torchinductor
    scdefer predict \\
        '${cells}' \\
        --model-dir '${model}' \\
        -o '${prefix}.h5ad' \\
        --device ${device} \\
        --threads ${task.cpus} \\
        --quiet \\
        ${args}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scdefer: \$(scdefer --version | sed 's/scdefer //')
        torch: \$(python -c 'import torch; print(torch.__version__)')
    END_VERSIONS
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}_scdefer"
    """
    touch '${prefix}.h5ad'

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scdefer: \$(scdefer --version | sed 's/scdefer //')
        torch: \$(python -c 'import torch; print(torch.__version__)')
    END_VERSIONS
    """
}
