#!/usr/bin/env nextflow
/*
 * scdefer pipeline: preprocess -> train -> evaluate (where labels are given) for every sample of
 * a samplesheet, and one table gathering every sample's metrics.
 *
 *   nextflow run main.nf --input samples.csv --outdir results -profile singularity
 *
 *   nextflow run main.nf --input samples.csv --outdir results --model results/scdefer/A_scdefer_model
 *     (labels every sample with a trained model instead of training one per sample)
 *
 * Samplesheet (CSV): sample,input[,label_key][,n_clusters]. Relative paths are resolved against
 * the samplesheet's own folder. Parameters and the samplesheet are checked offline, before any
 * task starts (no plugin download needed).
 */
nextflow.enable.dsl = 2

include { SCDEFER_PREPROCESS } from './modules/local/scdefer/preprocess/main'
include { SCDEFER_TRAIN      } from './modules/local/scdefer/train/main'
include { SCDEFER_PREDICT    } from './modules/local/scdefer/predict/main'
include { SCDEFER_EVALUATE   } from './modules/local/scdefer/evaluate/main'
include { MERGE_METRICS      } from './modules/local/merge_metrics/main'

/*
 * Validation (plain Groovy: works offline and stops the run before any task)
 */
def schemaProperties() {
    def schema = new groovy.json.JsonSlurper().parse(file("${projectDir}/nextflow_schema.json").toFile())
    def props = [:]
    schema['$defs'].each { group, definition -> props.putAll(definition.properties) }
    return props
}

def typeMatches(value, types) {
    def allowed = types instanceof List ? types : [types]
    return allowed.any { t ->
        (t == 'string'  && value instanceof CharSequence) ||
        (t == 'integer' && value instanceof Integer) ||
        (t == 'number'  && value instanceof Number) ||
        (t == 'boolean' && value instanceof Boolean) ||
        (t == 'null'    && value == null)
    }
}

def validateParameters() {
    def props = schemaProperties()
    def errors = []
    params.each { name, value ->
        if (name.contains('-') || name ==~ /.*[A-Z].*/) { return }  // Nextflow's kebab/camel aliases
        def spec = props[name]
        if (spec == null) { errors << "unknown parameter --${name}"; return }
        if (value == null) { return }
        if (!typeMatches(value, spec.type)) {
            errors << "--${name}: expected ${spec.type}, got '${value}'"
        } else if (spec.enum && !(value in spec.enum)) {
            errors << "--${name}: must be one of ${spec.enum.join(', ')}, got '${value}'"
        } else if (spec.pattern && value instanceof CharSequence && !(value ==~ spec.pattern)) {
            errors << "--${name}: '${value}' does not match ${spec.pattern}"
        } else if (spec.minimum != null && value instanceof Number && value < spec.minimum) {
            errors << "--${name}: must be at least ${spec.minimum}, got ${value}"
        }
    }
    if (!params.input) { errors << "--input is required (a samplesheet CSV: sample,input[,label_key][,n_clusters])" }
    if (!params.outdir) { errors << "--outdir is required" }
    if (errors) { error("Invalid parameters:\n  " + errors.join("\n  ")) }
}

def readSamplesheet(String path) {
    def sheet = file(path)
    if (!sheet.exists()) { error("Samplesheet not found: ${path}") }
    def lines = sheet.readLines().findAll { it.trim() && !it.startsWith('#') }
    if (lines.size() < 2) { error("Samplesheet ${path}: needs a header and at least one sample row") }
    def header = lines[0].split(',', -1)*.trim()
    def allowed = ['sample', 'input', 'label_key', 'n_clusters']
    def unknown = header.findAll { !(it in allowed) }
    if (unknown) { error("Samplesheet ${path}, row 1: unknown column(s) ${unknown.collect { "'${it}'" }.join(', ')}; allowed: ${allowed.join(', ')}") }
    def missing = ['sample', 'input'].findAll { !(it in header) }
    if (missing) { error("Samplesheet ${path}, row 1: missing column(s) ${missing.join(', ')}") }
    def seen = [:]
    def rows = []
    lines.drop(1).eachWithIndex { line, i ->
        def rowNo = i + 2
        def cells = line.split(',', -1)*.trim()
        def fail = { String column, String message -> error("Samplesheet ${path}, row ${rowNo}, column '${column}': ${message}") }
        if (cells.size() != header.size()) { fail(header[0], "expected ${header.size()} columns, found ${cells.size()}") }
        def row = [header, cells].transpose().collectEntries()
        if (!(row.sample ==~ /^[A-Za-z0-9._-]+$/)) { fail('sample', "'${row.sample}' must be a non-empty name of letters, digits, '.', '_' or '-'") }
        if (seen.containsKey(row.sample)) { fail('sample', "duplicate sample '${row.sample}' (first on row ${seen[row.sample]})") }
        seen[row.sample] = rowNo
        if (!row.input) { fail('input', 'empty') }
        def inputFile = row.input.startsWith('/') || row.input.contains('://') ? file(row.input) : file("${sheet.parent}/${row.input}")
        if (!inputFile.exists()) { fail('input', "file not found: ${inputFile}") }
        if (!inputFile.isDirectory() && !(inputFile.name ==~ /.*\.(h5ad|h5|hdf5|csv|tsv|txt)(\.gz)?$/)) {
            fail('input', "'${inputFile.name}' is not .h5ad, 10x .h5, a 10x mtx directory or csv/tsv")
        }
        def k = row.n_clusters ?: ''
        if (k && k != 'auto' && !(k ==~ /^[0-9]+$/ && k.toInteger() >= 2)) { fail('n_clusters', "'${k}' must be an integer >= 2 or 'auto'") }
        def labelKey = row.label_key ?: (params.label_key ?: '')
        if (labelKey && !(labelKey ==~ /^\S+$/)) { fail('label_key', "'${labelKey}' must not contain spaces") }
        def meta = [id: row.sample, label_key: labelKey ?: null, n_clusters: (k ?: params.n_clusters).toString()]
        rows << [meta, inputFile]
    }
    return rows
}

def helpText() {
    def lines = ["Usage: nextflow run main.nf --input samples.csv --outdir results [-profile docker|singularity|apptainer|conda[,gpu]]", ""]
    schemaProperties().each { name, spec ->
        if (!spec.hidden) { lines << String.format("  --%-18s %s [default: %s]", name, spec.description, spec.default) }
    }
    return lines.join("\n")
}

/*
 * Workflow
 */
workflow SCDEFER {
    take:
    samples // channel: [ val(meta), path(input) ]

    main:
    if (params.model) {
        // A trained model labels every sample's raw cells: no preprocessing, no training.
        SCDEFER_PREDICT(samples, file(params.model, checkIfExists: true))
        clustered = SCDEFER_PREDICT.out.h5ad
        tool_versions = SCDEFER_PREDICT.out.versions
    } else {
        SCDEFER_PREPROCESS(samples)
        SCDEFER_TRAIN(SCDEFER_PREPROCESS.out.h5ad)
        clustered = SCDEFER_TRAIN.out.h5ad
        tool_versions = SCDEFER_PREPROCESS.out.versions.mix(SCDEFER_TRAIN.out.versions)
    }
    SCDEFER_EVALUATE(clustered.filter { meta, h5ad -> meta.label_key })

    metrics = SCDEFER_EVALUATE.out.metrics
        .toSortedList { a, b -> a[0].id <=> b[0].id }
        .filter { it.size() > 0 }
    MERGE_METRICS(metrics.map { list -> list.collect { it[0].id } }, metrics.map { list -> list.collect { it[1] } })

    versions = tool_versions
        .mix(SCDEFER_EVALUATE.out.versions)
        .map { it.text }
        .unique()
        .collectFile(name: 'software_versions.yml', storeDir: "${params.outdir}/pipeline_info", sort: true, newLine: false)

    emit:
    clustered = clustered
    metrics   = MERGE_METRICS.out.tsv
    versions  = versions
}

workflow {
    if (params.help) {
        log.info(helpText())
        return
    }
    validateParameters()
    SCDEFER(Channel.fromList(readSamplesheet(params.input)))
}
