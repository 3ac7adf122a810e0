"""``netdiag serve``: keep a network read so that ``netdiag check`` answers at once."""
from __future__ import annotations

import click

from netdiag.cli.options import data_dir_option, echo_text, engine_errors, pass_state


@click.command()
@data_dir_option
@pass_state
@engine_errors
def serve(state, data_dir):
    """Read the data directory once and answer `netdiag check --data DATA ...` in a fraction of a second.

    Listens on a Unix socket in a folder only this user can open ($NETDIAG_RUNTIME_DIR, else
    $XDG_RUNTIME_DIR/netdiag, else /tmp/netdiag-UID; created with mode 700, refused if it is
    a link, another user's or open to others) and answers only this user; `netdiag check`
    with the same --data and settings finds it by itself and talks only to a server of its
    own user. Re-reads the data when a file in the folder changes. Stop it with Ctrl-C.
    With --workspace WS (`netdiag prepare`), reads per query only what may serve the spot,
    so it starts at once and stays small at province scale.

    \b
    Example (at the complaint desk):
      netdiag serve --data sample_data &
      netdiag check --data sample_data --lat 22.5431 --lon 114.0579 --coord-system gcj02
      netdiag serve --workspace ws &
      netdiag check --workspace ws --lat 22.5431 --lon 114.0579 --coord-system gcj02
    """
    from netdiag.service import serve as run

    run(data_dir, state.settings(), given=state.given(), on_ready=lambda path: echo_text(f"netdiag serve: ready for {data_dir} on {path}", err=True))
