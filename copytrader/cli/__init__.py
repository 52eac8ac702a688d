"""The ``copytrader`` command line: exit codes shared by every command."""

#: 0 success; 1 work failed (or a policy file was invalid during a reconcile); 2 usage or
#: configuration error.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LEASE = 0, 1, 2, 3
