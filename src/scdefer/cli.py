"""The ``scdefer`` command line: preprocess, train, evaluate, predict, simulate, run."""

from __future__ import annotations

import functools
import inspect
import logging
import sys
import warnings
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ._errors import ScDeferInputError
from ._version import __version__

app = typer.Typer(
    name="scdefer",
    help="scDEFER: deep embedded fusion clustering of single-cell RNA-seq (AAAI 2023).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
logger = logging.getLogger("scdefer")
F = TypeVar("F", bound=Callable[..., Any])


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class InputKind(str, Enum):
    counts = "counts"
    normalized = "normalized"
    lognorm = "lognorm"


class ZinbTarget(str, Enum):
    counts = "counts"
    lognorm = "lognorm"


class FusionWeights(str, Enum):
    dimension = "dimension"
    cell = "cell"


class GraphLoss(str, Enum):
    pairs = "pairs"
    squared = "squared"
    edges = "edges"


class Schedule(str, Enum):
    fast = "fast"
    paper = "paper"


# -- shared options (declared once, used by several commands) --------------------------------------
Output = Annotated[Path, typer.Option("--output", "-o", help="Output .h5ad file.")]
Seed = Annotated[int, typer.Option(help="Random seed; fixes the result on a given device.")]
Threads = Annotated[int | None, typer.Option(
    help="CPU threads (default: $GALAXY_SLOTS, $NXF_TASK_CPUS or $SLURM_CPUS_PER_TASK, else cores up to 8).")]
DeviceOpt = Annotated[Device, typer.Option(help="Compute device; 'auto' uses a GPU when one is visible.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or info messages.")]
NClusters = Annotated[str, typer.Option(
    help="Number of clusters, or 'auto' to estimate it (Leiden, resolution 1, on the PCA 15-NN graph).")]
Schedule_ = Annotated[Schedule, typer.Option(
    help="'fast': mini-batches, higher learning rates, early stopping; 'paper': full-batch "
         "250+250 epochs at lr 5e-5 / 1e-7, the paper's Eq. 9 graph loss and weights.")]
PretrainEpochs = Annotated[int | None, typer.Option(
    help="Pre-training epochs (default: fast 40, paper 250).")]
Epochs = Annotated[int | None, typer.Option(
    help="Maximum clustering epochs (default: fast 40 (stops when <0.1% of labels change), paper 250).")]
BatchSize = Annotated[int | None, typer.Option(
    help="Cells per step (Cluster-GCN subgraphs); 0 = whole graph (default: fast 512, paper 0).")]
InputNoise = Annotated[float | None, typer.Option(
    help="SD of Gaussian noise added to the input while training (denoising) "
         "(default: fast 1.0, paper 0).")]
PretrainLr = Annotated[float | None, typer.Option(help="Pre-training learning rate (default: fast 1e-3, paper 5e-5).")]
Lr = Annotated[float | None, typer.Option(help="Clustering learning rate (default: fast 1e-4, paper 1e-7).")]
Alpha = Annotated[float, typer.Option(help="Layer-wise fusion weight of the dense encoder (paper: 0.1).")]
Dropout = Annotated[float, typer.Option(help="Dropout on hidden layers.")]
ZinbTargetOpt = Annotated[ZinbTarget, typer.Option(
    help="What the ZINB likelihood scores: raw 'counts' with size factors, or 'lognorm' values "
         "(the authors' code).")]
FusionOpt = Annotated[FusionWeights, typer.Option(
    help="Fusion weights a, b per latent 'dimension' (inductive) or per 'cell' (authors' code; "
         "new cells get the mean).")]
GraphLossOpt = Annotated[GraphLoss | None, typer.Option(
    help="'pairs': BCE on edges and as many sampled non-edges; 'squared': the paper's squared "
         "error ||A - sigmoid(ZZ^T)||^2 on the same pairs (Eq. 9); 'edges': squared error against "
         "the normalised adjacency on edges only (authors' code) (default: fast pairs, paper squared).")]
TargetUpdate = Annotated[int | None, typer.Option(
    help="Refresh the target distribution P over all cells every N epochs (detached, DEC); "
         "0 = from each batch every step, not detached (authors' code) (default: fast 1, paper 0).")]
WeightGraph = Annotated[float | None, typer.Option(
    help="Weight of the graph reconstruction loss (default: fast 0.1, paper 0.3).")]
KeyAdded = Annotated[str, typer.Option(help="obs/obsm key for the results (obs[KEY], obsm['X_KEY']).")]
LabelKey = Annotated[str, typer.Option(help="obs column holding the true labels.")]

# The model's options, shared by `train` and `run` (name, annotated type, default).
TRAINING_OPTIONS: tuple[tuple[str, Any, Any], ...] = (
    ("n_clusters", NClusters, "auto"),
    ("schedule", Schedule_, Schedule.fast),
    ("pretrain_epochs", PretrainEpochs, None),
    ("epochs", Epochs, None),
    ("batch_size", BatchSize, None),
    ("pretrain_lr", PretrainLr, None),
    ("lr", Lr, None),
    ("alpha", Alpha, 0.1),
    ("dropout", Dropout, 0.1),
    ("input_noise", InputNoise, None),
    ("zinb_target", ZinbTargetOpt, ZinbTarget.counts),
    ("fusion_weights", FusionOpt, FusionWeights.dimension),
    ("graph_loss", GraphLossOpt, None),
    ("target_update", TargetUpdate, None),
    ("weight_graph", WeightGraph, None),
)


def _with_training_options(func: F) -> F:
    """Declare TRAINING_OPTIONS as keyword options of a command; they arrive in its ``**kwargs``."""
    signature = inspect.signature(func, eval_str=True)
    own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                               annotation=annotation)
             for name, annotation, default in TRAINING_OPTIONS]
    func.__signature__ = signature.replace(parameters=own + extra)  # type: ignore[attr-defined]
    return func


def _setup(quiet: bool, threads: int | None = None) -> None:
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="torch")
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO,
                        format="scdefer: %(message)s", stream=sys.stderr, force=True)
    from ._runtime import return_freed_memory, set_threads

    set_threads(threads)
    return_freed_memory()


def _cli_errors(func: F) -> F:
    """One line on stderr and exit 2 for bad input, exit 1 for anything else."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ScDeferInputError as exc:
            typer.echo(f"scdefer: error: {exc}", err=True)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # the last line of defence: one line, exit 1
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            typer.echo(f"scdefer: error: {type(exc).__name__}: {first}", err=True)
            if logger.isEnabledFor(logging.DEBUG):
                raise
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _parse_n_clusters(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        k = int(value)
    except ValueError:
        raise ScDeferInputError(f"--n-clusters must be an integer or 'auto', got {value!r}") from None
    if k < 2:
        raise ScDeferInputError(f"--n-clusters must be at least 2, got {k}")
    return k


def _check_distinct(inp: Path, out: Path) -> None:
    if inp.exists() and out.exists() and inp.resolve() == out.resolve():
        raise ScDeferInputError(f"output {out} would overwrite the input; choose another name")


def _read_h5ad(path: Path):
    from .io import read_input

    if not path.name.endswith(".h5ad"):
        raise ScDeferInputError(f"{path} is not an .h5ad file")
    return read_input(path)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"scdefer {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """scDEFER: deep embedded fusion clustering of single-cell RNA-seq (AAAI 2023)."""


# -- commands -------------------------------------------------------------------------------------
@app.command()
@_cli_errors
def preprocess(
    input: Annotated[Path, typer.Argument(help=".h5ad, 10x .h5, 10x mtx directory, .csv/.tsv(.gz), or scDeepCluster data.h5.")],
    output: Output,
    layer: Annotated[str | None, typer.Option(help="Read counts from this layer instead of X (h5ad).")] = None,
    input_kind: Annotated[InputKind, typer.Option(
        help="'counts' (checked to be integers), 'normalized' (TPM/RPKM: log1p applied) or "
             "'lognorm' (already log-normalised).")] = InputKind.counts,
    transpose: Annotated[bool, typer.Option(help="csv/tsv input has genes as rows.")] = False,
    n_top_genes: Annotated[int, typer.Option(help="Highly variable genes kept.")] = 2000,
    n_pcs: Annotated[int, typer.Option(help="Principal components for the KNN graph.")] = 50,
    n_neighbors: Annotated[int, typer.Option(help="K of the KNN cell graph (paper: 10).")] = 10,
    min_genes: Annotated[int, typer.Option(help="Drop cells with fewer detected genes.")] = 1,
    min_cells: Annotated[int, typer.Option(help="Drop genes detected in fewer cells.")] = 1,
    seed: Seed = 0,
    threads: Threads = None,
    quiet: Quiet = False,
) -> None:
    """Filter, normalise, log1p, select HVGs, PCA and build the KNN graph."""
    _setup(quiet, threads)
    from .io import read_input, write_h5ad_atomic
    from .preprocessing import PreprocessParams
    from .preprocessing import preprocess as run_preprocess

    _check_distinct(input, output)
    adata = read_input(input, transpose=transpose)
    params = PreprocessParams(input_kind=input_kind.value, layer=layer, min_genes=min_genes,
                              min_cells=min_cells, n_top_genes=n_top_genes, n_pcs=n_pcs,
                              n_neighbors=n_neighbors, seed=seed)
    write_h5ad_atomic(run_preprocess(adata, params), output)
    logger.info("wrote %s", output)


@app.command()
@_cli_errors
@_with_training_options
def train(
    input: Annotated[Path, typer.Argument(help="Output of `scdefer preprocess` (.h5ad).")],
    output: Output,
    model_dir: Annotated[Path | None, typer.Option(help="Directory for the trained model (for `scdefer predict`).")] = None,
    key_added: KeyAdded = "scdefer",
    seed: Seed = 0,
    device: DeviceOpt = Device.auto,
    threads: Threads = None,
    quiet: Quiet = False,
    **training: Any,
) -> None:
    """Train scDEFER; write embedding, clusters and soft assignments (never reads labels)."""
    _setup(quiet, threads)

    _check_distinct(input, output)
    adata = _read_h5ad(input)
    options = _train_options(training, seed)
    _train_and_write(adata, output, model_dir, key_added, device.value, quiet, options)


def _train_options(training: dict[str, Any], seed: int) -> dict[str, Any]:
    """TrainParams keywords from the TRAINING_OPTIONS values (enums as strings) and the seed."""
    out = {k: (v.value if isinstance(v, Enum) else v) for k, v in training.items()}
    out["n_clusters"] = _parse_n_clusters(str(training["n_clusters"]))
    out["seed"] = seed
    return out


def _train_and_write(adata, output: Path, model_dir: Path | None, key_added: str, device: str,
                     quiet: bool, options: dict[str, Any]):
    from .api import annotate
    from .io import write_h5ad_atomic
    from .model import ScDefer

    model = ScDefer(device=device, progress=not quiet, **options).fit(adata)
    annotate(adata, model, key_added)
    if model_dir is not None:
        model.save(model_dir)
        logger.info("saved model to %s", model_dir)
    write_h5ad_atomic(adata, output)
    logger.info("wrote %s (%d clusters)", output, model.result.n_clusters)
    return adata


@app.command()
@_cli_errors
def evaluate(
    input: Annotated[Path, typer.Argument(help="Clustered .h5ad (output of `scdefer train`).")],
    label_key: LabelKey,
    output: Annotated[Path, typer.Option("--output", "-o", help="Report directory.")],
    cluster_key: Annotated[str, typer.Option(help="obs column with the clusters.")] = "scdefer",
    plots: Annotated[bool, typer.Option(help="Write UMAP and confusion heatmap PNGs.")] = True,
    seed: Seed = 0,
    threads: Threads = None,
    quiet: Quiet = False,
) -> None:
    """NMI, ARI, Hungarian accuracy and cluster counts against known labels; JSON, TSV, PNG."""
    _setup(quiet, threads)
    from .evaluation import evaluate as run_evaluate

    metrics = run_evaluate(_read_h5ad(input), label_key, cluster_key, output, plots, seed)
    typer.echo(f"NMI {metrics['nmi']:.4f}  ARI {metrics['ari']:.4f}  ACC {metrics['acc']:.4f}  "
               f"clusters {metrics['n_clusters_found']} (true {metrics['n_clusters_true']})")


@app.command()
@_cli_errors
def predict(
    input: Annotated[Path, typer.Argument(help="New cells (.h5ad, raw counts or scdefer-preprocessed) with the model's genes.")],
    model_dir: Annotated[Path, typer.Option(help="Directory written by `scdefer train --model-dir`.")],
    output: Output,
    layer: Annotated[str | None, typer.Option(help="Read counts from this layer instead of X.")] = None,
    key_added: KeyAdded = "scdefer",
    device: DeviceOpt = Device.auto,
    threads: Threads = None,
    quiet: Quiet = False,
) -> None:
    """Embed new cells with a trained model and assign them to its clusters."""
    _setup(quiet, threads)
    from .api import annotate
    from .io import read_input, write_h5ad_atomic
    from .model import ScDefer

    _check_distinct(input, output)
    model = ScDefer.load(model_dir, device=device.value)
    adata = read_input(input)
    if layer is not None:
        model.preprocess_params["layer"] = layer
    prepared = model.prepare(adata)
    latent, proba = model.embed_and_assign(prepared)
    annotate(prepared, model, key_added, latent=latent, proba=proba)
    write_h5ad_atomic(prepared, output)
    logger.info("wrote %s", output)


@app.command()
@_cli_errors
def simulate(
    output: Output,
    n_cells: Annotated[int, typer.Option(help="Cells.")] = 1500,
    n_genes: Annotated[int, typer.Option(help="Genes.")] = 2000,
    n_groups: Annotated[int, typer.Option(help="Groups (truth in obs['group']).")] = 6,
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Simulate ZINB counts with known groups (demo and test data)."""
    _setup(quiet)
    from .io import write_h5ad_atomic
    from .simulation import simulate as run_simulate

    write_h5ad_atomic(run_simulate(n_cells, n_genes, n_groups, seed=seed), output)
    logger.info("wrote %s", output)


@app.command()
@_cli_errors
@_with_training_options
def run(
    input: Annotated[Path | None, typer.Argument(help="Input matrix (any `preprocess` format); omit to run on simulated data.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Output directory.")] = Path("scdefer_results"),
    label_key: Annotated[str | None, typer.Option(help="obs column with true labels: adds an evaluation report.")] = None,
    input_kind: Annotated[InputKind, typer.Option(help="See `scdefer preprocess --help`.")] = InputKind.counts,
    key_added: KeyAdded = "scdefer",
    seed: Seed = 0,
    device: DeviceOpt = Device.auto,
    threads: Threads = None,
    quiet: Quiet = False,
    **training: Any,
) -> None:
    """Simulate (without INPUT) or read, preprocess, train and evaluate in one go.

    Writes OUTPUT/prep.h5ad, OUTPUT/clustered.h5ad, OUTPUT/model/ and, with labels,
    OUTPUT/report/ (metrics.json, metrics.tsv, confusion.tsv, PNG plots).
    """
    _setup(quiet, threads)
    from .evaluation import evaluate as run_evaluate
    from .io import read_input, write_h5ad_atomic
    from .preprocessing import PreprocessParams
    from .preprocessing import preprocess as run_preprocess
    from .simulation import simulate as run_simulate

    options = _train_options(training, seed)
    if input is None:
        adata = run_simulate(1500, 2000, 6, seed=seed)
        write_h5ad_atomic(adata, output / "simulated.h5ad")
        label_key = label_key or "group"
        logger.info("no input given: simulated 1500 cells x 2000 genes in 6 groups")
    else:
        adata = read_input(input)
    if label_key is not None and label_key not in adata.obs:
        raise ScDeferInputError(f"label column {label_key!r} not in obs")
    prepared = run_preprocess(adata, PreprocessParams(input_kind=input_kind.value, seed=seed))
    write_h5ad_atomic(prepared, output / "prep.h5ad")
    clustered = _train_and_write(prepared, output / "clustered.h5ad", output / "model", key_added,
                                 device.value, quiet, options)
    if label_key is not None:
        metrics = run_evaluate(clustered, label_key, key_added, output / "report", True, seed)
        typer.echo(f"NMI {metrics['nmi']:.4f}  ARI {metrics['ari']:.4f}  ACC {metrics['acc']:.4f}  "
                   f"clusters {metrics['n_clusters_found']} (true {metrics['n_clusters_true']})")


if __name__ == "__main__":  # pragma: no cover
    app()
