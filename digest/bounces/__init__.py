"""Mail that comes back: VERP envelope senders (verp.py), reading bounce and complaint reports
(parse.py), where they arrive (mailbox.py), and what they do to the list (policy.py)."""
