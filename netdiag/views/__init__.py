"""What people look at and the files they open: maps, hotspots, the period report, the check
screen, the dispatch list, summaries, and the writers every output goes through.

- :mod:`~netdiag.views.sanitize`: neutralising spreadsheet formulas and escaping HTML
  (untrusted text from the data);
- :mod:`~netdiag.views.writers`: CSV (Excel-ready), JSON, output folders, the diagnosis files
  and ticket export formats;
- :mod:`~netdiag.views.summaries`: the validation and diagnosis summaries as text and dicts;
- :mod:`~netdiag.views.check_screen`: the handler's screen (standard library only);
- :mod:`~netdiag.views.ticket_text`: tickets as tables and cards for a terminal;
- :mod:`~netdiag.views.dispatch_list`: the field team's list as CSV, text and a printable page;
- :mod:`~netdiag.views.leaflet`, :mod:`~netdiag.views.map` (its layers in
  :mod:`~netdiag.views.map_layers`, packed by :mod:`~netdiag.views.columns`),
  :mod:`~netdiag.views.route_map`: offline HTML maps;
- :mod:`~netdiag.views.hotspots`, :mod:`~netdiag.views.period_report`: the optimisation
  engineer's analysis; :mod:`~netdiag.views.report_pages` writes the report's files.

May import anything in :mod:`netdiag` except :mod:`netdiag.cli`. This package's ``__init__``
imports nothing, so that the light ``netdiag check`` client can use the check screen alone.
"""
