"""netdiag: network-complaint diagnosis for a mobile operator's NOC.

The engine is usable from a notebook and never imports click::

    >>> from netdiag import load_dataset
    >>> ds = load_dataset("sample_data")          # doctest: +SKIP
    >>> ds.summary()                               # doctest: +SKIP
"""
from netdiag.errors import InputError, NetdiagError

__version__ = "0.1.0"

__all__ = ["InputError", "NetdiagError", "__version__", "load_dataset"]


def load_dataset(data_dir, **kwargs):
    """Read and validate every table of a data directory (see :func:`netdiag.data.dataset.load_dataset`)."""
    from netdiag.data.dataset import load_dataset as _load

    return _load(data_dir, **kwargs)
