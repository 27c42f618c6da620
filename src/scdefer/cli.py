"""The ``scdefer`` command line: preprocess, train, evaluate, predict, simulate, run."""

from __future__ import annotations

import functools
import inspect
import logging
import sys
import typing
import warnings
from collections.abc import Callable, Iterable
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ._errors import ScDeferInputError
from ._version import __version__
from .params import CHECKPOINT_EVERY, PreprocessParams, TrainParams

app = typer.Typer(
    name="scdefer",
    help="scDEFER: deep embedded fusion clustering of single-cell RNA-seq (AAAI 2023).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstring paragraphs are re-wrapped, not cut at source lines
)
logger = logging.getLogger("scdefer")
F = TypeVar("F", bound=Callable[..., Any])


class Device(StrEnum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


# -- shared options (declared once, used by several commands) --------------------------------------
def _flag(*names: str, **kwargs: Any) -> Any:
    """A boolean option; no ``<bool>`` value placeholder in ``--help`` (a flag takes no value)."""
    return typer.Option(*names, metavar="", **kwargs)


Output = Annotated[Path, typer.Option("--output", "-o", help="Output .h5ad file.")]
Seed = Annotated[int, typer.Option(help="Random seed; fixes the result on a given device.")]
Threads = Annotated[int | None, typer.Option(
    help="CPU threads (default: $GALAXY_SLOTS, $NXF_TASK_CPUS or $SLURM_CPUS_PER_TASK, else cores up to 8).")]
DeviceOpt = Annotated[Device, typer.Option(help="Compute device; 'auto' uses a GPU when one is visible.")]
Quiet = Annotated[bool, _flag("--quiet", "-q", help="No progress bars or info messages.")]
KeyAdded = Annotated[str, typer.Option(help="obs/obsm key for the results (obs[KEY], obsm['X_KEY']).")]
LabelKey = Annotated[str, typer.Option(help="obs column holding the true labels.")]
CheckpointDir = Annotated[Path | None, typer.Option(
    help="Save the training state in this directory every --checkpoint-every seconds. Running the "
    "same command again resumes from it and ends with the labels an uninterrupted run gives "
    "(same device and threads); a checkpoint of other cells or settings is refused.")]
CheckpointEvery = Annotated[float, typer.Option(
    help="Seconds between checkpoints (0: after every epoch).")]

def _choice_enum(name: str, choices: tuple[str, ...]) -> type[Enum]:
    """A str Enum for click's choice display and checking."""
    return Enum(name, {c: c for c in choices}, type=str)  # type: ignore[return-value]


def _option_parameters(cls: type) -> list[inspect.Parameter]:
    """Keyword parameters for every command-line option declared in ``cls`` (see ``_spec``).

    The type, default, choices and help text come from the dataclass field; options whose default
    comes from the training schedule show the schedule's values in their help.
    """
    from dataclasses import fields

    from ._spec import default_text, flag, integer_options
    from .params import SCHEDULES

    integers = integer_options(cls)
    hints = typing.get_type_hints(cls)
    out = []
    for f in fields(cls):
        spec = f.metadata.get("spec")
        if spec is None or not spec.cli:
            continue
        if spec.choices and spec.minimum is None:
            base: Any = _choice_enum(f.name, spec.choices)
        elif spec.choices or str in typing.get_args(hints[f.name]) or hints[f.name] is str:
            base = str
        else:
            base = int if f.name in integers else float
        help_text = spec.help
        if f.default is None and f.name in SCHEDULES["fast"]:
            help_text += f" (default: {default_text(f.name, None, SCHEDULES)})"
        annotation = Annotated[base | None if f.default is None else base,
                               typer.Option(flag(f.name), help=help_text)]
        out.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default,
                                     annotation=annotation))
    return out


def _with_options(*classes: type) -> Callable[[F], F]:
    """Declare the command-line options of parameter dataclasses on a command.

    Their values arrive in the command's ``**kwargs``; :func:`_option_values` turns them back into
    dataclass keywords.
    """

    def decorate(func: F) -> F:
        signature = inspect.signature(func, eval_str=True)
        own = [p for p in signature.parameters.values()
               if p.kind is not inspect.Parameter.VAR_KEYWORD]
        extra = [p for cls in classes for p in _option_parameters(cls)]
        func.__signature__ = signature.replace(parameters=own + extra)  # type: ignore[attr-defined]
        return func

    return decorate


def _option_values(cls: type, given: dict[str, Any], **fixed: Any) -> dict[str, Any]:
    """Keywords for ``cls`` from the command's options (enums as strings, numbers parsed)."""
    from ._spec import integer_options, specs

    integers = integer_options(cls)
    out = dict(fixed)
    for name, spec in specs(cls).items():
        if name not in given:
            continue
        value = given[name]
        value = value.value if isinstance(value, Enum) else value
        if isinstance(value, str) and spec.choices and value not in spec.choices:
            try:  # a number-or-word option such as --n-clusters 8 | auto
                value = int(value) if name in integers else float(value)
            except ValueError:
                pass  # the parameter check reports it
        out[name] = value
    return out


class _LevelFormatter(logging.Formatter):
    """``scdefer: message`` for information, ``scdefer: warning: message`` for warnings."""

    def format(self, record: logging.LogRecord) -> str:
        level = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
        return f"scdefer: {level}{record.getMessage()}"


def _setup(quiet: bool, threads: int | None = None) -> None:
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="torch")
    # anndata's own duplicate-name warning: scdefer reports and fixes duplicates in one line
    warnings.filterwarnings("ignore", message=".* names are not unique", category=UserWarning)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LevelFormatter())
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, handlers=[handler],
                        force=True)
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
def app_options(
    version: Annotated[bool, _flag("--version", callback=_version_callback, is_eager=True,
                                   help="Print the version and exit.")] = False,
) -> None:
    """scDEFER: deep embedded fusion clustering of single-cell RNA-seq (AAAI 2023)."""


# -- commands -------------------------------------------------------------------------------------
@app.command()
@_cli_errors
@_with_options(PreprocessParams)
def preprocess(
    input: Annotated[Path, typer.Argument(
        help=".h5ad, 10x .h5, 10x mtx directory, .csv/.tsv(.gz), or scDeepCluster data.h5.")],
    output: Output,
    transpose: Annotated[bool, _flag(help="csv/tsv input has genes as rows.")] = False,
    seed: Seed = 0,
    threads: Threads = None,
    quiet: Quiet = False,
    **options: Any,
) -> None:
    """Filter, normalise, log1p, select HVGs, PCA and build the KNN graph."""
    _setup(quiet, threads)
    from .io import read_input, write_h5ad_atomic
    from .preprocessing import preprocess as run_preprocess

    params = PreprocessParams(**_option_values(PreprocessParams, options, seed=seed))
    _check_distinct(input, output)
    adata = read_input(input, transpose=transpose)
    write_h5ad_atomic(run_preprocess(adata, params), output)
    logger.info("wrote %s", output)


@app.command()
@_cli_errors
@_with_options(TrainParams)
def train(
    input: Annotated[Path, typer.Argument(help="Output of `scdefer preprocess` (.h5ad).")],
    output: Output,
    model_dir: Annotated[Path | None, typer.Option(
        help="Directory for the trained model (for `scdefer predict`).")] = None,
    key_added: KeyAdded = "scdefer",
    seed: Seed = 0,
    device: DeviceOpt = Device.auto,
    threads: Threads = None,
    checkpoint_dir: CheckpointDir = None,
    checkpoint_every: CheckpointEvery = CHECKPOINT_EVERY,
    quiet: Quiet = False,
    **training: Any,
) -> None:
    """Train scDEFER; write embedding, clusters and soft assignments (never reads labels)."""
    _setup(quiet, threads)

    options = _option_values(TrainParams, training, seed=seed)
    TrainParams(**options).resolved()  # bad options fail before any reading
    _check_checkpoint_every(checkpoint_every)
    _check_distinct(input, output)
    adata = _read_h5ad(input)
    _train_and_write(adata, output, model_dir, key_added, device.value, quiet, options,
                     Checkpoints(checkpoint_dir, checkpoint_every))


class Checkpoints(typing.NamedTuple):
    """Where and how often training saves its state (see ``--checkpoint-dir``)."""

    directory: Path | None = None
    every: float = CHECKPOINT_EVERY


def _check_checkpoint_every(seconds: float) -> None:
    if seconds < 0:
        raise ScDeferInputError(f"--checkpoint-every must be >= 0 seconds, got {seconds}")


def _train_and_write(adata, output: Path, model_dir: Path | None, key_added: str, device: str,
                     quiet: bool, options: dict[str, Any], checkpoints: Checkpoints | None = None):
    from .api import annotate
    from .io import write_h5ad_atomic
    from .model import ScDefer

    checkpoints = checkpoints or Checkpoints()
    model = ScDefer(device=device, progress=not quiet, **options).fit(
        adata, checkpoint_dir=checkpoints.directory, checkpoint_every=checkpoints.every)
    annotate(adata, model, key_added)
    if model_dir is not None:
        model.save(model_dir)
        logger.info("saved model to %s", model_dir)
    write_h5ad_atomic(adata, output)
    logger.info("wrote %s (%s)", output,
                cluster_count_summary(model.result.labels, model.result.n_clusters))
    return adata


def cluster_count_summary(labels: Iterable[int], n_clusters: int) -> str:
    """'K clusters', saying how many of them no cell was assigned to (when any)."""
    n_empty = n_clusters - len(set(labels))
    if n_empty:
        return f"{n_clusters} clusters, {n_empty} of them emptied out in training"
    return f"{n_clusters} clusters"


@app.command()
@_cli_errors
def evaluate(
    input: Annotated[Path, typer.Argument(help="Clustered .h5ad (output of `scdefer train`).")],
    label_key: LabelKey,
    output: Annotated[Path, typer.Option("--output", "-o", help="Report directory.")],
    cluster_key: Annotated[str, typer.Option(help="obs column with the clusters.")] = "scdefer",
    plots: Annotated[bool, _flag(help="Write UMAP and confusion heatmap PNGs.")] = True,
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
    input: Annotated[Path, typer.Argument(
        help="New cells (.h5ad, raw counts or scdefer-preprocessed) with the model's genes.")],
    model_dir: Annotated[Path, typer.Option(help="Directory written by `scdefer train --model-dir`.")],
    output: Output,
    layer: Annotated[str | None, typer.Option(help="Read counts from this layer instead of X.")] = None,
    key_added: KeyAdded = "scdefer",
    device: DeviceOpt = Device.auto,
    threads: Threads = None,
    quiet: Quiet = False,
) -> None:
    """Label new cells with a trained model, each cell independently of the others in the file.

    Every cell is normalised to the training library-size target, projected on the training PCA
    and attached to its nearest training cells; model genes absent from the input are filled with
    zeros (a warning; an error below half of them). Writes what `train` writes (the model's
    clusters as categories) plus obs['KEY_confidence'] and obs['KEY_no_counts'].
    """
    _setup(quiet, threads)
    from .api import predict as run_predict
    from .io import read_input, write_h5ad_atomic
    from .model import ScDefer

    _check_distinct(input, output)
    model = ScDefer.load(model_dir, device=device.value)
    adata = read_input(input)
    result = run_predict(adata, model, key_added=key_added, layer=layer,
                         model_source=str(model_dir))
    write_h5ad_atomic(result, output)
    logger.info("wrote %s (%d cells)", output, result.n_obs)


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
@_with_options(PreprocessParams, TrainParams)
def run(
    input: Annotated[Path | None, typer.Argument(
        help="Input matrix (any `preprocess` format); omit to run on simulated data.")] = None,
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="Output directory.")] = Path("scdefer_results"),
    label_key: Annotated[str | None, typer.Option(
        help="obs column with true labels: adds an evaluation report.")] = None,
    key_added: KeyAdded = "scdefer",
    seed: Seed = 0,
    device: DeviceOpt = Device.auto,
    threads: Threads = None,
    checkpoint_dir: CheckpointDir = None,
    checkpoint_every: CheckpointEvery = CHECKPOINT_EVERY,
    quiet: Quiet = False,
    **options: Any,
) -> None:
    """Simulate (without INPUT) or read, preprocess, train and evaluate in one go.

    Writes OUTPUT/prep.h5ad, OUTPUT/clustered.h5ad, OUTPUT/model/ and, with labels,
    OUTPUT/report/ (metrics.json, metrics.tsv, confusion.tsv, PNG plots).
    """
    _setup(quiet, threads)
    from .evaluation import evaluate as run_evaluate
    from .io import read_input, write_h5ad_atomic
    from .preprocessing import preprocess as run_preprocess
    from .simulation import simulate as run_simulate

    prep_params = PreprocessParams(**_option_values(PreprocessParams, options, seed=seed))
    train_options = _option_values(TrainParams, options, seed=seed)
    TrainParams(**train_options).resolved()  # bad options fail before any work
    _check_checkpoint_every(checkpoint_every)
    if input is None:
        adata = run_simulate(1500, 2000, 6, seed=seed)
        write_h5ad_atomic(adata, output / "simulated.h5ad")
        label_key = label_key or "group"
        logger.info("no input given: simulated 1500 cells x 2000 genes in 6 groups")
    else:
        adata = read_input(input)
    if label_key is not None and label_key not in adata.obs:
        raise ScDeferInputError(f"label column {label_key!r} not in obs")
    prepared = run_preprocess(adata, prep_params)
    write_h5ad_atomic(prepared, output / "prep.h5ad")
    clustered = _train_and_write(prepared, output / "clustered.h5ad", output / "model", key_added,
                                 device.value, quiet, train_options,
                                 Checkpoints(checkpoint_dir, checkpoint_every))
    if label_key is not None:
        metrics = run_evaluate(clustered, label_key, key_added, output / "report", True, seed)
        typer.echo(f"NMI {metrics['nmi']:.4f}  ARI {metrics['ari']:.4f}  ACC {metrics['acc']:.4f}  "
                   f"clusters {metrics['n_clusters_found']} (true {metrics['n_clusters_true']})")


#: What typer's validation puts before the message of a rejected choice; the line reads better
#: without it ("Invalid value for '--device': 'tpu' is not one of ...").
VALIDATION_PREFIX = "Value error, "


def main() -> None:
    """The ``scdefer`` command: the app, with usage errors (unknown option, bad choice, missing
    argument) as one ``scdefer: error:`` line and exit status 2, like every other bad input."""
    try:
        status = app(prog_name="scdefer", standalone_mode=False)
    except typer.TyperException as exc:  # click's UsageError / BadParameter and their kin
        context = getattr(exc, "ctx", None)
        hint = f" (see '{context.command_path} --help')" if context is not None else ""
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        message = message.replace(VALIDATION_PREFIX, "")
        typer.echo(f"scdefer: error: {message}{hint}", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    except typer.Abort:
        typer.echo("scdefer: error: aborted", err=True)
        sys.exit(1)
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
