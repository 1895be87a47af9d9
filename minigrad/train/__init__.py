"""minigrad.train: a Trainer with the notes' babysitting signals, progress bars, checkpoints,
plots, and random hyper-parameter search."""
from .history import History
from .monitor import layer_stats, update_ratios
from .plots import (plot_activation_histograms, plot_decision_boundary, plot_filters, plot_history,
                    plot_update_ratios)
from .search import BorderWarning, Choice, LogUniform, SearchResult, Uniform, random_search
from .trainer import Trainer

__all__ = ["Trainer", "History", "layer_stats", "update_ratios",
           "plot_history", "plot_update_ratios", "plot_activation_histograms", "plot_filters",
           "plot_decision_boundary", "random_search", "LogUniform", "Uniform", "Choice", "SearchResult",
           "BorderWarning"]
