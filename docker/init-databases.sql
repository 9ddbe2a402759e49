-- modelguard: databases next to Airflow's metadata database, for docker-compose.yaml.
--
-- The postgres image runs this once, when its data volume is empty (files in
-- /docker-entrypoint-initdb.d/ run as POSTGRES_USER, after POSTGRES_DB = airflow is created).
-- To re-run it: docker compose down --volumes.
--
--   airflow           Airflow's metadata database (created by the image from POSTGRES_DB)
--   modelguard        modelguard's registry and results store (connection modelguard_registry)
--   email_engagement  the source table of scored sends (connection modelguard_source)
--
-- Local development credentials only; docker-compose.yaml uses the same ones.

CREATE ROLE modelguard WITH LOGIN PASSWORD 'modelguard';

CREATE DATABASE modelguard OWNER modelguard;
CREATE DATABASE email_engagement OWNER modelguard;

-- PostgreSQL 15+ no longer lets every role create objects in "public"; the owner of the
-- database may, and modelguard owns both. Stated anyway, so it does not depend on the owner.
\connect modelguard
GRANT ALL ON SCHEMA public TO modelguard;
\connect email_engagement
GRANT ALL ON SCHEMA public TO modelguard;
