#!/usr/bin/env python3
"""Checks the custom resources in rendered YAML (cert-manager Certificate, Prometheus Operator
PodMonitor and ServiceMonitor) against their published CRD schemas, strictly: unknown fields are
errors, as `kubernetes-validate --strict` makes them for built-in kinds (which it cannot do for
CRDs). The schemas come as the pydantic models cloudcoil generates from the projects' released
CRDs (cloudcoil.models.cert_manager 1.17.1.0 = cert-manager v1.17.1,
cloudcoil.models.prometheus_operator 0.80.1.0 = prometheus-operator v0.80.1); `.ci/run`
installs them into .venv-val.

Usage: crd-validate.py FILE...   Prints one line per checked object; exit 1 on any failure.
"""
import sys

import pydantic
import yaml

# Unknown fields are errors: set on cloudcoil's base model before any model class is made, so
# every generated class inherits it.
import cloudcoil.pydantic

cloudcoil.pydantic.BaseModel.model_config["extra"] = "forbid"

import cloudcoil.models.cert_manager.v1 as cert_manager  # noqa: E402
import cloudcoil.models.prometheus_operator.v1 as prometheus_operator  # noqa: E402

KINDS = {
    ("cert-manager.io/v1", "Certificate"): cert_manager.Certificate,
    ("monitoring.coreos.com/v1", "PodMonitor"): prometheus_operator.PodMonitor,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): prometheus_operator.ServiceMonitor,
}

failed = False
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        docs = list(yaml.safe_load_all(f))
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        model = KINDS.get((doc.get("apiVersion"), doc.get("kind")))
        if model is None:
            continue
        name = f"{path}: {doc['kind']} {doc.get('metadata', {}).get('name')}"
        try:
            model.model_validate(doc)
            print(f"ok {name}")
        except pydantic.ValidationError as e:
            failed = True
            print(f"FAIL {name}: {e}")
sys.exit(1 if failed else 0)
