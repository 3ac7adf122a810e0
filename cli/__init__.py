"""The click front-end of netdiag: one module per command, installed as ``netdiag.cli``.

This folder sits at the top of the repository (the design calls for ``cli/``) and is installed
under the package's own namespace through ``package_dir`` in ``setup.cfg``; there is no bare
``cli`` module. It stays thin: each command parses its options (shared ones in
:mod:`netdiag.cli.options`), makes one library call and prints what the library built. Heavy
libraries are imported inside the commands, so ``netdiag --help`` is instant.
"""
