"""Exceptions raised by the engine. The CLI turns them into one-line errors (exit code 2)."""


class NetdiagError(Exception):
    """Base class of every error netdiag raises on purpose."""


class InputError(NetdiagError, ValueError):
    """A file, table, column or option cannot be used as given.

    The message names the file or option, what was expected and what came.
    """
