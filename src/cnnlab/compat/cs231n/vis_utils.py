"""The CS231n ``vis_utils`` names, backed by :mod:`cnnlab.viz`.

``from cnnlab.compat.cs231n.vis_utils import visualize_grid`` replaces the seeds'
``from cs231n.vis_utils import visualize_grid``; the call and the returned array are the same.
"""

from cnnlab.viz.grid import plot_filters, visualize_grid

__all__ = ["plot_filters", "visualize_grid"]
