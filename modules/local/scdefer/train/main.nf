process SCDEFER_TRAIN {
    tag "$meta.id"
    label 'process_high'
    label 'process_gpu'

    conda "${moduleDir}/environment.yml"
    // One image for every process: the CUDA build, which CI builds and runs (it also runs on the
    // CPU). The smaller CPU-only image (containers/Dockerfile.cpu) can replace it through config.
    container "${ workflow.containerEngine in ['singularity', 'apptainer'] && !task.ext.singularity_pull_docker_container ?
        'oras://ghcr.io/scdefer/scdefer:0.1.0-sif' :
        'ghcr.io/scdefer/scdefer:0.1.0' }"

    input:
    tuple val(meta), path(h5ad)

    output:
    tuple val(meta), path("${prefix}.h5ad") , emit: h5ad
    tuple val(meta), path("${prefix}_model"), emit: model
    path "versions.yml"                     , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}_scdefer"
    def n_clusters = meta.n_clusters ?: 'auto'
    def device = task.accelerator ? 'cuda' : 'cpu'
    // ext.checkpoint_dir (a directory outside the task's own, e.g. under workDir): a retried task
    // then resumes training from the last checkpoint instead of starting over.
    def checkpoint = task.ext.checkpoint_dir ? "--checkpoint-dir '${task.ext.checkpoint_dir}'" : ''
    if ("${h5ad}" == "${prefix}.h5ad") error "SCDEFER_TRAIN: input and output names are the same; set ext.prefix"
    """
    export MPLCONFIGDIR=./tmp/mpl NUMBA_CACHE_DIR=./tmp/numba TORCHINDUCTOR_CACHE_DIR=./tmp/torchinductor
    scdefer train \\
        '${h5ad}' \\
        -o '${prefix}.h5ad' \\
        --model-dir '${prefix}_model' \\
        --n-clusters ${n_clusters} \\
        --device ${device} \\
        --threads ${task.cpus} \\
        ${checkpoint} \\
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
    mkdir -p '${prefix}_model'
    touch '${prefix}_model/model.pt'

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        scdefer: \$(scdefer --version | sed 's/scdefer //')
        torch: \$(python -c 'import torch; print(torch.__version__)')
    END_VERSIONS
    """
}
