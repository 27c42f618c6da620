"""Training: cell data, Cluster-GCN style batches, and the two-phase training loop."""

from ..params import TrainParams
from ._batching import Batch, ClusterBatcher
from ._checkpoint import CHECKPOINT_EVERY
from ._data import CellData
from ._inference import Embedding, assign, build_network, embed, embed_attached
from ._trainer import Trainer, TrainResult

__all__ = ["CHECKPOINT_EVERY", "Batch", "CellData", "ClusterBatcher", "Embedding", "TrainParams",
           "TrainResult", "Trainer", "assign", "build_network", "embed", "embed_attached"]
