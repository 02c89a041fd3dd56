"""Key checks on the Key Vault data plane: state, shape, versions, rotation and a round trip.

The round trip wraps a random 256-bit data-encryption key with the vault and unwraps it,
then wraps one locally with the key's public half (RSA-OAEP-256, as Storage, SQL and disk
encryption do) and has the vault unwrap it. Both calls go to the vault on purpose: the
SDK's CryptographyClient would wrap locally once it holds the public key, which would prove
nothing about wrapKey. Neither the data key nor the wrapped bytes are ever printed.
"""

from __future__ import annotations

import base64
import hmac
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError
from azure.core.rest import HttpRequest

from cmkctl.live.azure import Azure, Failure, error_code, explain
from cmkctl.live.report import Check, Report, Status
from cmkctl.live.target import KeyTarget, Target

ALGORITHM = "RSA-OAEP-256"
ROTATION_GRACE = timedelta(hours=24)
"""Azure services pick up a new version within a day: the previous one must stay enabled."""
EXPIRY_WARNING = timedelta(days=30)


@dataclass
class KeyState:
    """What the data plane told us about one key; ``None`` fields could not be read."""

    key: Any = None
    """KeyVaultKey of the version in use (public material only)."""
    versions: list[Any] | None = None
    failure: Failure | None = None
    """Why the key itself could not be read (deleted, purged, 403, firewall...)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_keys(azure: Azure, target: Target, report: Report, now: datetime) -> None:
    with azure.keys(target.vault_url) as client:
        for key in target.keys:
            state = _read(client, key, target.vault_name)
            props = state.key.properties if state.key is not None else _listed(key, state)
            for check in _state_checks(key, state, props, target.vault_name, now):
                report.add(check)
            report.add(_rotation_policy(client, key, target.vault_name))
            version = props.version if props is not None else key.uri.version
            for check in _round_trip(client, key, state, version, target):
                report.add(check)


def _read(client: Any, key: KeyTarget, vault: str) -> KeyState:
    state = KeyState()
    name = key.uri.name
    try:
        state.versions = list(client.list_properties_of_key_versions(name))
    except AzureError as error:
        if not _key_not_found(error):
            state.failure = explain(error, "listing the key's versions", vault)
            return state
    try:
        state.key = client.get_key(name, key.uri.version)
    except AzureError as error:
        state.failure = (_missing(client, key, vault) if _key_not_found(error) else
                         _disabled(error, key) or explain(error, "reading the key", vault))
    return state


def _key_not_found(error: Exception) -> bool:
    """Key Vault's own 404 for a key; a 404 for anything else (a vault) proves nothing."""
    status, code, _, _ = error_code(error)
    return status == 404 and code == "KeyNotFound"


def _disabled(error: Exception, key: KeyTarget) -> Failure | None:
    status, _, inner, _ = error_code(error)
    if status == 403 and inner == "KeyDisabled":
        return Failure(Status.FAIL, "403 KeyDisabled: the key is disabled; every service "
                       "encrypted with it loses access within about 10 minutes",
                       f"cmkctl key enable --key-uri {key.uri}")
    return None


def _missing(client: Any, key: KeyTarget, vault: str) -> Failure:
    """A 404: soft-deleted (recoverable) or gone from the vault altogether."""
    name = key.uri.name
    if key.uri.version:
        try:
            client.get_key(name)
        except AzureError as error:
            if not _key_not_found(error):
                return explain(error, "reading the key", vault)
        else:
            return Failure(Status.FAIL, f"version {key.uri.version} does not exist in key {name}",
                           "share the key URI with a version that exists: az keyvault key "
                           f"list-versions --vault-name {vault} --name {name}")
    try:
        deleted = client.get_deleted_key(name)
    except AzureError as error:
        if not _key_not_found(error):
            return explain(error, "looking for the key among deleted keys", vault)
        return Failure(Status.FAIL, "the key is neither in the vault nor among its deleted keys: "
                       "purged (or never created); data encrypted with it is unreadable",
                       f"restore it from its backup blob: cmkctl key restore --key-uri "
                       f"{key.uri.versionless} --backup <blob> (docs/operations.md: Restore); "
                       "without a backup the data is lost")
    when = deleted.deleted_date.isoformat() if deleted.deleted_date else "an unknown date"
    purge = (deleted.scheduled_purge_date.isoformat() if deleted.scheduled_purge_date
             else "the end of retention")
    return Failure(Status.FAIL, f"the key was deleted on {when} and is soft-deleted until {purge}",
                   f"cmkctl key recover --key-uri {key.uri.versionless}")


def _state_checks(key: KeyTarget, state: KeyState, props: Any, vault: str,
                  now: datetime) -> list[Check]:
    prefix = f"key[{key.uri.name}]"
    checks = [_exists(prefix, state)]
    if props is None:
        failure = state.failure or Failure(Status.COULD_NOT_CHECK, "the key could not be read", "")
        reason = failure.reason if failure.status is Status.COULD_NOT_CHECK else (
            "the key could not be read (see exists)")
        return checks + [Check(f"{prefix}.{name}", title, Status.COULD_NOT_CHECK, reason,
                               failure.fix if failure.status is Status.COULD_NOT_CHECK else "")
                         for name, title in _KEY_CHECKS]
    set_attributes = (f"az keyvault key set-attributes --vault-name {vault} --name {key.uri.name} "
                      f"--version {props.version}")
    checks.append(Check(f"{prefix}.enabled", "enabled",
                        Status.PASS if props.enabled else Status.FAIL,
                        f"version {props.version} enabled" if props.enabled else
                        f"version {props.version} is disabled: consumers get 403 Forbidden",
                        f"cmkctl key enable --key-uri {key.uri.versionless}/{props.version}"))
    checks.append(_expiry(prefix, props.expires_on, now, vault, key.uri.name))
    active = props.not_before is None or props.not_before <= now
    checks.append(Check(f"{prefix}.active", "activation date in the past",
                        Status.PASS if active else Status.FAIL,
                        "no activation date" if props.not_before is None else
                        f"active since {props.not_before.isoformat()}" if active else
                        f"not usable before {props.not_before.isoformat()}",
                        f"{set_attributes} --not-before {now.strftime('%Y-%m-%dT%H:%M:%SZ')}"))
    checks.append(_shape(prefix, key, state.key))
    checks.append(_operations(prefix, state.key))
    checks.append(_previous_version(prefix, state.versions, key.uri.versionless, now))
    return checks


_KEY_CHECKS = (("enabled", "enabled"), ("not-expired", "not expired"),
               ("active", "activation date in the past"), ("type-size", "key type and size"),
               ("operations", "wrapKey and unwrapKey allowed"),
               ("previous-version", "previous version enabled for 24 h after rotation"))


def _listed(key: KeyTarget, state: KeyState) -> Any:
    """A disabled key cannot be read (403), but its attributes appear in the version list."""
    if state.failure is None or state.failure.status is not Status.FAIL or not state.versions:
        return None
    if key.uri.version:
        return next((v for v in state.versions if v.version == key.uri.version), None)
    return _newest(state.versions)


def _newest(versions: list[Any]) -> Any:
    return max(versions, key=lambda v: v.created_on or datetime.min.replace(tzinfo=UTC))


def _exists(prefix: str, state: KeyState) -> Check:
    if state.key is not None:
        return Check(f"{prefix}.exists", "key readable", Status.PASS,
                     f"version {state.key.properties.version}")
    failure = state.failure or Failure(Status.COULD_NOT_CHECK, "not read", "")
    return Check(f"{prefix}.exists", "key readable", failure.status, failure.reason, failure.fix)


def _expiry(prefix: str, expires: datetime | None, now: datetime, vault: str, name: str) -> Check:
    fix = (f"create a new version and rotate the consumers to it (az keyvault key rotate "
           f"--vault-name {vault} --name {name}), or extend the expiry with az keyvault key "
           "set-attributes --expires")
    if expires is None:
        return Check(f"{prefix}.not-expired", "not expired", Status.PASS, "no expiry date")
    if expires <= now:
        return Check(f"{prefix}.not-expired", "not expired", Status.FAIL,
                     f"expired on {expires.isoformat()}", fix)
    soon = " (within 30 days: rotate now)" if expires - now < EXPIRY_WARNING else ""
    return Check(f"{prefix}.not-expired", "not expired", Status.PASS,
                 f"expires {expires.isoformat()}{soon}")


def _shape(prefix: str, key: KeyTarget, vault_key: Any) -> Check:
    if vault_key is None:
        return Check(f"{prefix}.type-size", "key type and size", Status.COULD_NOT_CHECK,
                     "the key is disabled, so its public material cannot be read",
                     "enable it (see enabled) and run verify again")
    kty = str(getattr(vault_key.key_type, "value", vault_key.key_type))
    size = len(vault_key.key.n or b"") * 8
    good = kty in key.types and size in key.sizes
    allowed = ", ".join(f"{t} {s}" for t in key.types for s in sorted(key.sizes))
    return Check(f"{prefix}.type-size", "key type and size",
                 Status.PASS if good else Status.FAIL, f"{kty} {size} bits (allowed: {allowed})",
                 "a key's type and size cannot change: create a new key of an allowed size, "
                 "grant and share its URI, rotate every consumer to it, then retire this one")


def _operations(prefix: str, vault_key: Any) -> Check:
    if vault_key is None:
        return Check(f"{prefix}.operations", "wrapKey and unwrapKey allowed",
                     Status.COULD_NOT_CHECK, "the key's operations cannot be read while disabled",
                     "enable it and run verify again")
    ops = {str(getattr(o, "value", o)) for o in (vault_key.key_operations or [])}
    absent = sorted({"wrapKey", "unwrapKey"} - ops)
    return Check(f"{prefix}.operations", "wrapKey and unwrapKey allowed",
                 Status.PASS if not absent else Status.FAIL,
                 f"operations: {', '.join(sorted(ops))}" + (
                     f"; missing {', '.join(absent)}" if absent else ""),
                 "az keyvault key set-attributes --ops wrapKey unwrapKey on the version in use")


def _previous_version(prefix: str, versions: list[Any] | None, key_uri: str,
                      now: datetime) -> Check:
    title = "previous version enabled for 24 h after rotation"
    check_id = f"{prefix}.previous-version"
    if not versions:
        return Check(check_id, title, Status.COULD_NOT_CHECK, "the versions could not be listed",
                     "grant the identity running cmkctl keys list (Key Vault Reader)")
    ordered = sorted(versions, key=lambda v: v.created_on or datetime.min.replace(tzinfo=UTC))
    if len(ordered) < 2:
        return Check(check_id, title, Status.PASS, "only one version")
    current, previous = ordered[-1], ordered[-2]
    age = now - current.created_on if current.created_on else None
    if age is not None and age < ROTATION_GRACE and not previous.enabled:
        hours = int(age.total_seconds() // 3600)
        return Check(check_id, title, Status.FAIL,
                     f"version {current.version} was created {hours} h ago and the previous "
                     f"version {previous.version} is already disabled; services that have not "
                     "switched yet lose access",
                     f"cmkctl key enable --key-uri {key_uri}/{previous.version} (keep it enabled "
                     "at least 24 h, and while backups encrypted with it may be restored)")
    state = "enabled" if previous.enabled else "disabled"
    return Check(check_id, title, Status.PASS,
                 f"latest version {current.version}; previous version {previous.version} {state}")


def _rotation_policy(client: Any, key: KeyTarget, vault: str) -> Check:
    check_id = f"key[{key.uri.name}].rotation-policy"
    title = "rotation policy"
    fix = (f"az keyvault key rotation-policy update --vault-name {vault} --name {key.uri.name} "
           "--value <policy.json> with a Rotate action (e.g. timeAfterCreate P180D)")
    try:
        policy = client.get_key_rotation_policy(key.uri.name)
    except AzureError as error:
        # A key without a policy is answered with 200 and Azure's default policy (below); a
        # 404 here is something else (no such key, a proxy's page), so it is explained.
        failure = explain(error, "reading the rotation policy", vault)
        return Check(check_id, title, failure.status, failure.reason, failure.fix, required=False)
    rotate = [a for a in policy.lifetime_actions or []
              if str(getattr(a.action, "value", a.action)).lower() == "rotate"]
    if not rotate and policy.id is None:
        # Nobody set a policy: Key Vault returns its default one, without an id (azure-sdk-
        # for-python#20416): a Notify action 30 days before expiry, no rotation.
        return Check(check_id, title, Status.FAIL,
                     "no rotation policy (Azure's default policy only notifies before expiry; "
                     "nothing rotates the key)", fix, required=False)
    if not rotate:
        return Check(check_id, title, Status.FAIL, "the policy has no Rotate action", fix,
                     required=False)
    when = rotate[0].time_after_create or f"{rotate[0].time_before_expiry} before expiry"
    return Check(check_id, title, Status.PASS,
                 f"rotates {when}; versions expire after {policy.expires_in or 'never'}",
                 required=False)


def _round_trip(client: Any, key: KeyTarget, state: KeyState, version: str | None,
                target: Target) -> list[Check]:
    prefix = f"key[{key.uri.name}]"
    remote_title = "round trip: vault wraps and unwraps a 256-bit key"
    local_title = "round trip: local RSA-OAEP-256 wrap, vault unwraps"
    if version is None:
        reason = "the key could not be read (see exists)"
        return [Check(f"{prefix}.round-trip", remote_title, Status.COULD_NOT_CHECK, reason),
                Check(f"{prefix}.local-wrap", local_title, Status.COULD_NOT_CHECK, reason)]
    base = f"{target.vault_url}keys/{key.uri.name}/{version}"
    dek = os.urandom(32)
    checks = []
    try:
        wrapped = _operation(client, base, "wrapkey", dek)
        same = hmac.compare_digest(_operation(client, base, "unwrapkey", wrapped), dek)
        checks.append(Check(f"{prefix}.round-trip", remote_title,
                            Status.PASS if same else Status.FAIL,
                            f"version {version}: unwrapped bytes "
                            + ("match" if same else "differ from the data key"),
                            "" if same else "the vault returned other bytes: open a support case"))
    except AzureError as error:
        failure = _disabled(error, key) or explain(
            error, "wrapping and unwrapping", target.vault_name)
        checks.append(Check(f"{prefix}.round-trip", remote_title, failure.status, failure.reason,
                            failure.fix))
    checks.append(_local_wrap(client, base, state, version, key, target))
    return checks


def _local_wrap(client: Any, base: str, state: KeyState, version: str, key: KeyTarget,
                target: Target) -> Check:
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: PLC0415

    check_id = f"key[{key.uri.name}].local-wrap"
    title = "round trip: local RSA-OAEP-256 wrap, vault unwraps"
    if state.key is None or not state.key.key.n:
        return Check(check_id, title, Status.COULD_NOT_CHECK,
                     "the public key could not be read (see exists)")
    jwk = state.key.key
    public = rsa.RSAPublicNumbers(int.from_bytes(jwk.e, "big"),
                                  int.from_bytes(jwk.n, "big")).public_key()
    dek = os.urandom(32)
    wrapped = public.encrypt(dek, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                                               algorithm=hashes.SHA256(), label=None))
    try:
        same = hmac.compare_digest(_operation(client, base, "unwrapkey", wrapped), dek)
    except AzureError as error:
        failure = _disabled(error, key) or explain(
            error, "unwrapping a locally wrapped key", target.vault_name)
        return Check(check_id, title, failure.status, failure.reason, failure.fix)
    return Check(check_id, title, Status.PASS if same else Status.FAIL,
                 f"version {version}: get + unwrapKey path works" if same else
                 "the vault unwrapped other bytes than were wrapped with its public key",
                 "" if same else "the public key does not belong to this version: open a case")


def _operation(client: Any, base: str, operation: str, value: bytes) -> bytes:
    """One wrapkey/unwrapkey call on the vault through the client's authenticated pipeline."""

    request = HttpRequest("POST", f"{base}/{operation}", params={"api-version": client.api_version},
                          json={"alg": ALGORITHM, "value": b64url(value)})
    response = client.send_request(request)
    if response.status_code != 200:
        raise HttpResponseError(response=response)
    return unb64url(str(response.json()["value"]))
