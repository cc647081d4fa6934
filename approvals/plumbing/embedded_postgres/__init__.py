"""A PostgreSQL database backend that starts the embedded server on first use.

Used when DATABASE_URL is not set: settings point HOST at the data folder
(whose socket lives there too), and the first connection in a process starts
pgserver's PostgreSQL if it is not already running. It keeps running after
the process exits, so data and speed survive restarts.
"""
