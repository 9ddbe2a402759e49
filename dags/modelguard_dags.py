"""The Airflow DAGs of every model modelguard watches: one set per model config.

MODELGUARD_CONFIG (or [modelguard] config_path in Airflow's config) names a model config file or a
folder of them; each model gets <model>_monitoring, <model>_monitoring_daily,
<model>_retraining, <model>_deployment and <model>_rollback. Parsed often: only the small YAML
configs are read here; pandas, scipy, SQLAlchemy and matplotlib are imported inside the tasks.
"""

from modelguard.factory import build_dags

globals().update(build_dags())
