"""The database: tables, migrations and the queries of each aggregate."""
