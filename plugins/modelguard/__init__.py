"""modelguard: keeps a production classifier healthy from inside Apache Airflow 3.

The pure core (``stats``, ``drift``, ``registry``, ``store``, ``reporting``, ``config``) imports no
Airflow; ``operators``, ``sensors``, ``hooks`` and ``triggers`` are thin Airflow-facing layers.
Keep this module free of heavy imports: DAG files import ``modelguard`` at parse time.
"""

__version__ = "0.1.0"
