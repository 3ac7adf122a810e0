"""netdiag: network-complaint diagnosis for a mobile operator's NOC.

The engine is usable from a notebook and never imports click::

    >>> from netdiag import diagnose, load_dataset
    >>> result = diagnose(load_dataset("sample_data"))      # doctest: +SKIP
    >>> result.diagnoses["cause"].value_counts()            # doctest: +SKIP
"""
from netdiag.errors import InputError, NetdiagError

__version__ = "0.2.0"

__all__ = ["InputError", "NetdiagError", "__version__", "diagnose", "load_dataset"]


def diagnose(ds, **kwargs):
    """Diagnose every complaint and group them into tickets (see :func:`netdiag.pipeline.diagnose`)."""
    from netdiag.pipeline import diagnose as _diagnose

    return _diagnose(ds, **kwargs)


def load_dataset(data_dir, **kwargs):
    """Read and validate every table of a data directory (see :func:`netdiag.data.dataset.load_dataset`)."""
    from netdiag.data.dataset import load_dataset as _load

    return _load(data_dir, **kwargs)
