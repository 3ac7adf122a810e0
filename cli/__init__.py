"""netdiag's click front-end, installed as ``netdiag.cli``. Thin: parse options, call the engine."""
