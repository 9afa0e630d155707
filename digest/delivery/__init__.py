"""Delivery: an issue and its audience → the outbox rows → messages over a transport (SMTP or folder).

Takes a built issue and the subscribers; gives recorded outcomes. `sender.py` is the one send path
(approval, lease, resume); `outbox.py` runs a send; `workers.py` its processes; `transport.py` the wire."""
