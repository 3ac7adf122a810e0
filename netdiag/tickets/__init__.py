"""Tickets: grouping diagnoses into tickets, their life cycle, the ticket store, dispatch.

- :mod:`~netdiag.tickets.grouping`: one ticket per root element and cause (and per hole
  square / field-test cluster), grade, due times, priority;
- :mod:`~netdiag.tickets.lifecycle`: TMF621 statuses and the moves allowed between them;
- :mod:`~netdiag.tickets.tmf621`: a ticket as a TM Forum Trouble Ticket resource;
- :mod:`~netdiag.tickets.store`: tickets that last across runs and people (SQLite);
- :mod:`~netdiag.tickets.dispatch`: a field team's visits for a day, ordered into a route.

May import: :mod:`netdiag.engine`, :mod:`netdiag.data`, :mod:`netdiag.errors`,
:mod:`netdiag.settings`. Files and pages for people are written by :mod:`netdiag.views`
(``TicketStore.export`` hands over to :func:`netdiag.views.writers.export_tickets`, imported
only when called).
"""
