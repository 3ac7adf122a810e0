"""Data in: reading, the contract's schema, validation, coordinates and the dataset.

Owns everything between a data directory and a typed, checked :class:`~netdiag.data.dataset.Dataset`:

- :mod:`~netdiag.data.read`: find and read each table (CSV, Parquet, GeoJSON, GeoPackage layer);
- :mod:`~netdiag.data.csv_reader`: a CSV file read so that every physical record is accounted for;
- :mod:`~netdiag.data.schema`: the data contract as data (tables, columns, vocabularies, causes);
- :mod:`~netdiag.data.convert`: column converters (numbers, booleans, ids, timestamps, vocabularies);
- :mod:`~netdiag.data.validate`: row checks, rejections with reasons, cross-table references;
- :mod:`~netdiag.data.coords`: GCJ-02 / BD-09 to WGS-84, distances, the metric CRS;
- :mod:`~netdiag.data.times`: parsing and formatting timestamps (one home for every command);
- :mod:`~netdiag.data.values`: column and scalar helpers shared by the layers above;
- :mod:`~netdiag.data.privacy`: masking customer numbers (personal data);
- :mod:`~netdiag.data.dataset`: :func:`~netdiag.data.dataset.load_dataset`, the boundary.

May import: :mod:`netdiag.errors`, :mod:`netdiag.settings` and the libraries. Nothing here
imports :mod:`netdiag.engine`, :mod:`netdiag.tickets` or :mod:`netdiag.views`.
"""
