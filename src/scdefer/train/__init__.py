"""Training: cell data, Cluster-GCN style batches, and the two-phase training loop."""

from ._batching import Batch, ClusterBatcher
from ._data import CellData
from ..params import TrainParams
from ._trainer import Trainer, TrainResult

__all__ = ["Batch", "CellData", "ClusterBatcher", "TrainParams", "TrainResult", "Trainer"]
