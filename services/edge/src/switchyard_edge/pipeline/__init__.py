"""The steps of the request pipeline that hold state or do I/O (admission, attempts, accounting,
streams); the decisions they carry out are in ``domain/``, the peers they call in ``clients/``."""
