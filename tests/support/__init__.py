"""What the tests share, by concern: data to work on, databases, loopback HTTP and SMTP servers, the web app,
the editor pages, a real browser, and the daemon and sends run for real.

``conftest.py`` turns some of these into fixtures; everything else is imported from here.
"""
