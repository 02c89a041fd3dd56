"""Helpers for the credential-store and organisation-key stacks: certificates and secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from cmkctl.cert import certificate as cert
from cmkctl.plan.recorder import PROJECT, Recording, record
from tests.stacks import config_of

SECRETS = {"DbPassword": "s3cr3t-Pa55word-never-printed", "SmtpPassword": "an0ther-0ne"}
"""Values a plan, an output or an error must never show."""


def make_certificate(directory: Path, days: int = 365) -> cert.Written:
    return cert.create(directory, "CN=test-store", days, force=False,
                       now=datetime.now(UTC))


def run_with_secrets(stack: str, secrets: dict[str, str] | None = None,
                     **overrides: str | None) -> Recording:
    """Record ``stack`` with ``credentialSecrets`` held as Pulumi holds a ``--secret`` key."""
    config = config_of(stack, **overrides)
    key = f"{PROJECT}:credentialSecrets"
    config[key] = json.dumps(SECRETS if secrets is None else secrets)
    return record(stack, config, secret_keys=[key])
