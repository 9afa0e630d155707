"""Operations: the daemon and its schedule, health and metrics, reports, charts and the dashboard, JSON logs.

Takes the facade and the stores; gives the operator's views. Nothing below imports from here."""
