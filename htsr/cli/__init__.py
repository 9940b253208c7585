"""The ``htsr`` command: one module per subcommand (see :mod:`htsr.cli.main`)."""
