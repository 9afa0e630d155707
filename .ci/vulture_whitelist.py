"""What the dead-code check (vulture, run by .ci/run) must not report.

Attributes read by templates and reports, hooks that libraries call (logging, SQLAlchemy, urllib3,
requests, itsdangerous), and the few functions that tests and bench scripts drive directly.
"""

# ruff: noqa
# fmt: off
detector  # unused variable (digest/bounces/parse.py:69)
width  # unused variable (digest/charts.py:28)
rotate  # unused variable (digest/charts.py:40)
width  # unused variable (digest/charts.py:47)
grid  # unused variable (digest/charts.py:51)
legend  # unused variable (digest/charts.py:52)
plot  # unused variable (digest/charts.py:53)
waiting  # unused variable (digest/db/reports.py:65)
_.format  # unused method (digest/logjson.py:15)
NAMES  # unused variable (digest/metrics.py:35)
_.pool_classes_by_scheme  # unused attribute (digest/netguard.py:198)
_.trust_env  # unused attribute (digest/sources.py:73)
drain  # unused function (digest/web/notices.py:72)
export_string  # unused function (subscribers/csvio.py:195)
_.record_event  # unused method (subscribers/store.py:83)
impl  # unused variable (subscribers/table.py:32)
cache_ok  # unused variable (subscribers/table.py:33)
_.process_bind_param  # unused method (subscribers/table.py:35)
_.process_result_value  # unused method (subscribers/table.py:42)
default_signer  # unused variable (subscribers/tokens.py:44)
labelled_at  # unused variable (digest/db/labels.py): a stored column, read by bench/topics.py --editor-labels
_.renders  # unused attribute (digest/issue/message.py): the render count bench/render.py and the tests read
_._getline  # unused method (digest/bounces/mailbox.py): poplib calls it for every line it reads
environment_variables  # the settings' variables and defaults: tests/test_config.py holds .env.example to them
enqueue_seconds  # unused variable (digest/delivery/run.py): the report field bench/send.py --million prints
_.enqueue_seconds  # unused attribute (digest/delivery/outbox.py): set on the report (digest/delivery/run.py) for bench/send.py --million
