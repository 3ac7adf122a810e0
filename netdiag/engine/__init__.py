"""The diagnosis engine: where each cell serves, what depends on what, element state over
time, the verdict per complaint, and its action, team, evidence and reply.

Read in this order to follow a complaint:

- :mod:`~netdiag.engine.footprints`: sector wedges, the radius model, relocated footprints;
- :mod:`~netdiag.engine.topology`: the dependency graph (repeater > cell > site > transport);
- :mod:`~netdiag.engine.status`: element state over time (outages, interference, counters) and
  the state of every element at one moment;
- :mod:`~netdiag.engine.network`: everything above prepared once (:class:`~netdiag.engine.network.Network`);
- :mod:`~netdiag.engine.diagnose`: complaints -> serving elements -> causes -> verdicts;
- :mod:`~netdiag.engine.actions`: action, team, confidence, evidence and the customer's reply;
- :mod:`~netdiag.engine.check`: one spot at one time, for a complaint handler.

May import: :mod:`netdiag.data`, :mod:`netdiag.errors`, :mod:`netdiag.settings`; nothing of
:mod:`netdiag.tickets` or :mod:`netdiag.views`. :func:`netdiag.pipeline.diagnose` composes the
engine's verdicts with the tickets.
"""
