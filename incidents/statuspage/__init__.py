"""The public status page: a reading of the incident record for everybody, rendered on change.

- build.py   reads the database (a fixed number of queries) and returns plain data
- render.py  turns that data into bytes (HTML, Atom, RSS, Statuspage-shaped JSON) and stores them
- views.py   serves the stored bytes (no database on a read)
"""
