"""What is certified: the requirements catalog, the targets that name a vendor's system, and
which requirements the suites cover."""
