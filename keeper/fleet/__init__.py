"""The fleet: many vaults on several chains from one fleet file (:mod:`keeper.fleet.config`), a supervised
worker per vault with a leader lease when replicas share PostgreSQL (:mod:`keeper.fleet.run`), RPC failover over
several URLs (:mod:`keeper.fleet.rpc`) and one risk view across chains (:mod:`keeper.fleet.view`, in
``keeper fleet status`` and on the fleet's Prometheus endpoint, :mod:`keeper.fleet.metrics`)."""
