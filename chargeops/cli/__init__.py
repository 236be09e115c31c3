"""The ``chargeops`` command line: a thin click layer that parses, calls one library function and prints."""
