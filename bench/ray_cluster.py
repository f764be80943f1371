"""A two-node Ray cluster on this machine, for the cluster bench and tests: one CPU a node, every
port on 127.0.0.1, no dashboard (docs/cluster.md); and a store that counts what it is given."""
from __future__ import annotations

import os

from agmcore.experiments.cluster import LOOPBACK_ONLY
from agmcore.storage.store import ResultStore

os.environ.update(LOOPBACK_ONLY)  # read by Ray when it is imported


def start_two_nodes():
    """(cluster, its second node); the caller shuts the cluster down (cluster.shutdown())."""
    from ray.cluster_utils import Cluster
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False,
                                                            "node_ip_address": "127.0.0.1"})
    worker = cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    return cluster, worker


class CountingStore(ResultStore):
    """A result store that counts how often each key is put."""

    def __init__(self, folder):
        super().__init__(folder)
        self.puts = {}

    def put_run(self, doc):
        self.puts[doc["key"]] = self.puts.get(doc["key"], 0) + 1
        return super().put_run(doc)
