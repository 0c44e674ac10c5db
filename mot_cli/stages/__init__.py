"""Pipeline stages: each reads the source and upstream caches and writes one Parquet cache."""
