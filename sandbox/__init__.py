"""Stand-ins for the platforms' APIs, each its own WSGI app and process:
``python -m sandbox.<platform> --port P --token T``. They keep state, check the token, validate
like the real platforms and inject faults on request (see ``sandbox.common``)."""
