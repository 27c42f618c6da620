"""What the two encoders read: the log-normalised genes, the Pearson residuals, or one each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import scipy.sparse as sp

from ._errors import ScDeferInputError
from .params import EncoderInput
from .residuals import PearsonResiduals, ResidualRows

if TYPE_CHECKING:
    from .module._layers import Rows


def needs_counts(kind: EncoderInput) -> bool:
    """Whether ``--encoder-input kind`` reads the Pearson residuals of counts."""
    return kind != "lognorm"


@dataclass(frozen=True)
class EncoderInputs:
    """The rows each encoder's first layer reads (one object for both unless ``dual``)."""

    dense: Rows
    graph: Rows

    @property
    def shared(self) -> bool:
        """True when both encoders read the same rows."""
        return self.graph is self.dense

    @property
    def residual_rows(self) -> ResidualRows | None:
        """The residuals an encoder reads (their counts and fitted model), if any does."""
        return next((rows for rows in (self.graph, self.dense)
                     if isinstance(rows, ResidualRows)), None)

    @classmethod
    def build(cls, kind: EncoderInput, lognorm: sp.csr_matrix, counts: sp.csr_matrix | None,
              residuals: PearsonResiduals | None) -> EncoderInputs:
        """The inputs of ``kind`` from the cells' log-normalised genes and their counts.

        ``counts`` and the fitted ``residuals`` are needed unless ``kind`` is ``lognorm``.
        """
        if not needs_counts(kind):
            return cls(lognorm, lognorm)
        if counts is None or residuals is None:
            raise ScDeferInputError(
                f"--encoder-input {kind} needs counts; this input was preprocessed as non-count "
                "data: use --encoder-input lognorm")
        rows = ResidualRows(counts, residuals)
        return cls(rows, rows) if kind == "pearson" else cls(lognorm, rows)
