"""A fake of the Key Vault data plane and the Resource Manager calls the live commands make.

State is plain data a test edits to stage a failure (a disabled version, a removed lock, a
revoked role). Cryptography is real: each key version is an RSA private key made with
``cryptography``, wrapkey/unwrapkey do RSA-OAEP-256, keys are served as real JWKs. Wire
shapes follow Key Vault REST (attributes as epoch seconds, base64url values, error bodies
with ``innererror`` codes such as ForbiddenByFirewall, ForbiddenByRbac, KeyDisabled) and ARM
(``properties`` objects, ``value`` lists, AuthorizationFailed). The key operations answer as
Key Vault's 7.5 examples do (specification/keyvault/data-plane/Microsoft.KeyVault/stable/7.5/
examples/: UpdateKey, RotateKey, RecoverDeletedKey, RestoreKey, GetKeys, GetKeyRotationPolicy);
the vault recovery as Vaults_CreateOrUpdate with ``createMode: recover``; the provider's stores
are whatever ``resources`` holds (built by ``fake_provider`` from Microsoft's examples).
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OPERATOR = {"oid": "00000000-0000-0000-0000-0000000000aa", "upn": "operator@example.com",
            "tid": TENANT}
"""Who the test credential's token says it is (claims of a Microsoft identity platform token)."""
TOKEN = ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
                 for part in ({"alg": "none", "typ": "JWT"}, OPERATOR)) + ".not-signed"
"""A JWT-shaped bearer token (unsigned: the fake only compares it)."""
ARM_HOST = "management.azure.com"
DAY = 86400
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
CUSTOM_NO_PURGE = "0f0e0d0c-0b0a-4909-8807-060504030201"
ROLES = {
    CRYPTO_SERVICE_ENCRYPTION_USER: ("Key Vault Crypto Service Encryption User", {
        "actions": ["Microsoft.EventGrid/eventSubscriptions/write",
                    "Microsoft.EventGrid/eventSubscriptions/read",
                    "Microsoft.EventGrid/eventSubscriptions/delete"],
        "notActions": [],
        "dataActions": ["Microsoft.KeyVault/vaults/keys/read",
                        "Microsoft.KeyVault/vaults/keys/wrap/action",
                        "Microsoft.KeyVault/vaults/keys/unwrap/action"],
        "notDataActions": []}),
    CRYPTO_OFFICER: ("Key Vault Crypto Officer", {
        "actions": ["Microsoft.Authorization/*/read", "Microsoft.KeyVault/vaults/*/read"],
        "notActions": [],
        "dataActions": ["Microsoft.KeyVault/vaults/keys/*",
                        "Microsoft.KeyVault/vaults/keyrotationpolicies/*"],
        "notDataActions": []}),
    CUSTOM_NO_PURGE: ("Key operator without purge", {
        "actions": [], "notActions": [],
        "dataActions": ["Microsoft.KeyVault/vaults/keys/*"],
        "notDataActions": ["Microsoft.KeyVault/vaults/keys/purge/action",
                           "Microsoft.KeyVault/vaults/keys/delete"]}),
}
"""Role definitions as ARM returns them: the built-in ones with their real permissions, and a
custom role that excludes purge with ``notDataActions``."""


@functools.cache
def rsa_key(size: int, index: int) -> rsa.RSAPrivateKey:
    """Real RSA keys, made once per test session (key generation is the slow part)."""
    del index  # distinct cache entries give distinct keys
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_bytes(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


@dataclass
class Version:
    version: str
    private: rsa.RSAPrivateKey
    created: int
    enabled: bool = True
    nbf: int | None = None
    exp: int | None = None
    ops: list[str] = field(default_factory=lambda: ["wrapKey", "unwrapKey"])
    kty: str = "RSA"


@dataclass
class Key:
    name: str
    versions: list[Version]
    """Oldest first; the last one is current."""
    rotation_policy: dict[str, Any] | None = None
    deleted_on: int | None = None


@dataclass
class Vault:
    name: str
    subscription: str
    resource_group: str
    properties: dict[str, Any]
    keys: dict[str, Key] = field(default_factory=dict)
    deleted: dict[str, Key] = field(default_factory=dict)
    firewall_blocks: bool = False
    denied: set[str] = field(default_factory=set)
    """Data actions the caller lacks (answered with 403 ForbiddenByRbac)."""

    @property
    def id(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.KeyVault/vaults/{self.name}")

    @property
    def url(self) -> str:
        return f"https://{self.name}.vault.azure.net"


@dataclass
class Cloud:
    vaults: dict[str, Vault] = field(default_factory=dict)
    deleted_vaults: dict[str, tuple[Vault, int]] = field(default_factory=dict)
    """Soft-deleted vaults and when they were deleted: ARM lists them, the data plane is gone."""
    locks: list[dict[str, str]] = field(default_factory=list)
    """Each ``{"scope", "name", "level"}``."""
    assignments: list[dict[str, str]] = field(default_factory=list)
    """Each ``{"scope", "principal", "role"}`` (role definition GUID)."""
    arm_denied: set[str] = field(default_factory=set)
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)
    """Token scopes the credential was asked for."""
    plaintexts: list[bytes] = field(default_factory=list)
    """Every data key the vault wrapped or unwrapped (tests check none is ever printed)."""
    backups: dict[bytes, tuple[str, Key]] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Provider-side ARM resources by id (storage accounts, SQL servers and their encryption
    protector and keys, disk encryption sets, identities): bodies built by ``fake_provider``."""
    pages: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    """Paths answered with a raw page (status, content type, body) instead of Azure's JSON: what
    a proxy, a captive portal or a route that does not exist sends back."""
    writes: list[tuple[str, str, Any]] = field(default_factory=list)
    """Every state-changing request (method, path, body): tests assert exactly what was sent."""

    # --- HTTP entry point ------------------------------------------------------------

    def handle(self, method: str, host: str, target: str, headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        path = re.sub("/+", "/", unquote(parts.path))
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.requests.append((method, host, path))
        payload = json.loads(body) if body else {}
        if method != "GET":
            self.writes.append((method, path, payload))
        if path in self.pages:
            status, content_type, page = self.pages[path]
            return status, {"Content-Type": content_type}, page
        if host.lower() == ARM_HOST:
            if headers.get("authorization") != f"Bearer {TOKEN}":
                return _error(401, "AuthenticationFailed", "no valid bearer token")
            return _reply(*self._arm(method, path, query, payload))
        vault_name = host.split(".", 1)[0].lower()
        if not headers.get("authorization"):
            return 401, {"WWW-Authenticate": (
                f'Bearer authorization="https://login.microsoftonline.com/{TENANT}", '
                'resource="https://vault.azure.net"')}, b""
        if headers["authorization"] != f"Bearer {TOKEN}":
            return _error(401, "Unauthorized", "AKV10032: Invalid issuer.")
        vault = self.vaults.get(vault_name)
        if vault is None:
            return _error(404, "VaultNotFound", f"vault {vault_name} does not exist")
        return _reply(*self._data_plane(vault, method, path, payload))

    # --- Key Vault data plane --------------------------------------------------------

    def _data_plane(self, vault: Vault, method: str, path: str,
                    payload: dict[str, Any]) -> tuple[int, Any]:
        if vault.firewall_blocks:
            return _body(403, "Forbidden", (
                "Client address is not authorized and caller is not a trusted service.\r\n"
                "Client address: 203.0.113.7\r\nCaller: appid=...\r\n"
                f"Vault: {vault.name};location=westeurope"), "ForbiddenByFirewall")
        segments = [s for s in path.split("/") if s]
        action, operation = _action(segments, method)
        if action in vault.denied:
            return _body(403, "Forbidden", (
                "Caller is not authorized to perform action on resource.\r\n"
                f"Action: '{action}'\r\nResource: '{vault.id.lower()}'\r\n"
                "Assignment: (not found)\r\nDecisionReason: 'DeniedWithNoValidRBAC'"),
                "ForbiddenByRbac")
        if segments == ["keys", "restore"] and method == "POST":
            return self._restore(vault, payload)
        if segments == ["keys"] and method == "GET":
            # GetKeys (GetKeys-example.json): each key's versionless kid and current attributes.
            return 200, {"value": [{"kid": f"{vault.url}/keys/{key.name}",
                                    "attributes": _attributes(key.versions[-1])}
                                   for key in vault.keys.values()], "nextLink": None}
        if segments[0] == "deletedkeys" and segments[2:] == ["recover"] and method == "POST":
            return self._recover(vault, segments[1])
        if segments[0] == "deletedkeys" and len(segments) == 2:
            deleted = vault.deleted.get(segments[1])
            if deleted is None:
                return _body(404, "KeyNotFound", f"Deleted Key not found: {segments[1]}")
            assert deleted.deleted_on is not None
            return 200, {**self._bundle(vault, deleted, deleted.versions[-1]),
                         "recoveryId": f"{vault.url}/deletedkeys/{deleted.name}",
                         "deletedDate": deleted.deleted_on,
                         "scheduledPurgeDate": deleted.deleted_on + 90 * DAY}
        key = vault.keys.get(segments[1]) if len(segments) > 1 else None
        if key is None:
            return _body(404, "KeyNotFound", "A key with (name/version) was not found")
        rest = segments[2:]
        if rest == ["versions"]:
            return 200, {"value": [{"kid": self._kid(vault, key, v),
                                    "attributes": _attributes(v)} for v in key.versions],
                         "nextLink": None}
        if rest == ["rotationpolicy"]:
            if key.rotation_policy is None:
                # A key nobody gave a policy gets Azure's default one, without an id
                # (azure-sdk-for-python#20416; the body as mondoohq/mql#6357 printed it).
                return 200, {"lifetimeActions": [{"trigger": {"timeBeforeExpiry": "P30D"},
                                                  "action": {"type": "Notify"}}],
                             "attributes": {}}
            return 200, {"id": f"{vault.url}/keys/{key.name}/rotationpolicy",
                         **key.rotation_policy}
        if rest == ["rotate"] and method == "POST":
            return self._rotate(vault, key)
        if rest == ["backup"] and method == "POST":
            blob = b"fake-key-vault-backup:" + uuid.uuid4().bytes
            self.backups[blob] = (vault.subscription, copy.deepcopy(key))
            return 200, {"value": b64url(blob)}
        version = _version(key, rest[0] if rest else "")
        if version is None:
            return _body(404, "KeyNotFound", "A key with (name/version) was not found")
        if len(rest) == 1 and method == "PATCH":
            return self._update(vault, key, version, payload)
        if not version.enabled:
            return _body(403, "Forbidden",
                         f"Operation {operation} is not allowed on a disabled key.", "KeyDisabled")
        if len(rest) <= 1 and method == "GET":
            return 200, self._bundle(vault, key, version)
        if len(rest) == 2 and rest[1] in ("wrapkey", "unwrapkey") and method == "POST":
            return self._crypto(vault, key, version, rest[1], payload)
        return _body(400, "BadParameter", f"unsupported {method} {path}")

    def _crypto(self, vault: Vault, key: Key, version: Version, operation: str,
                payload: dict[str, Any]) -> tuple[int, Any]:
        if payload.get("alg") != "RSA-OAEP-256":
            return _body(400, "BadParameter", "unsupported algorithm")
        wanted = "wrapKey" if operation == "wrapkey" else "unwrapKey"
        if wanted not in version.ops:
            return _body(403, "Forbidden", f"Operation {wanted} is not permitted on this key.",
                         "KeyOperationForbidden")
        value = unb64url(payload["value"])
        if operation == "wrapkey":
            self.plaintexts.append(value)
            result = version.private.public_key().encrypt(value, OAEP)
        else:
            result = version.private.decrypt(value, OAEP)
            self.plaintexts.append(result)
        return 200, {"kid": self._kid(vault, key, version), "value": b64url(result)}

    def _update(self, vault: Vault, key: Key, version: Version,
                payload: dict[str, Any]) -> tuple[int, Any]:
        """UpdateKey (UpdateKey-example.json): attributes change, the bundle comes back."""
        attributes = payload.get("attributes") or {}
        if "enabled" in attributes:
            version.enabled = bool(attributes["enabled"])
        return 200, self._bundle(vault, key, version)

    def _rotate(self, vault: Vault, key: Key) -> tuple[int, Any]:
        """RotateKey (RotateKey-example.json): a new current version of the same type and size."""
        size = key.versions[-1].private.key_size
        version = Version(uuid.uuid4().hex, rsa_key(size, 1000 + len(key.versions)), now(),
                          ops=list(key.versions[-1].ops))
        key.versions.append(version)
        return 200, self._bundle(vault, key, version)

    def _recover(self, vault: Vault, name: str) -> tuple[int, Any]:
        """RecoverDeletedKey (RecoverDeletedKey-example.json): the key is back with its versions."""
        deleted = vault.deleted.pop(name, None)
        if deleted is None:
            return _body(404, "KeyNotFound", f"Deleted Key not found: {name}")
        deleted.deleted_on = None
        vault.keys[name] = deleted
        return 200, self._bundle(vault, deleted, deleted.versions[-1])

    def _restore(self, vault: Vault, payload: dict[str, Any]) -> tuple[int, Any]:
        found = self.backups.get(unb64url(payload.get("value", "")))
        if found is None:
            return _body(400, "BadParameter", "Backup blob is corrupt")
        subscription, key = found
        if subscription != vault.subscription:
            return _body(403, "Forbidden", "Backup blob cannot be restored into this vault: it "
                                           "belongs to another subscription")
        if key.name in vault.keys or key.name in vault.deleted:
            return _body(409, "Conflict", f"Key {key.name} already exists")
        vault.keys[key.name] = copy.deepcopy(key)
        return 200, self._bundle(vault, key, key.versions[-1])

    def _kid(self, vault: Vault, key: Key, version: Version) -> str:
        return f"{vault.url}/keys/{key.name}/{version.version}"

    def _bundle(self, vault: Vault, key: Key, version: Version) -> dict[str, Any]:
        numbers = version.private.public_key().public_numbers()
        return {"key": {"kid": self._kid(vault, key, version), "kty": version.kty,
                        "key_ops": version.ops, "n": b64url(_int_bytes(numbers.n)),
                        "e": b64url(_int_bytes(numbers.e))},
                "attributes": _attributes(version)}

    # --- Resource Manager --------------------------------------------------------------

    def _arm(self, method: str, path: str, query: dict[str, str],
             payload: dict[str, Any]) -> tuple[int, Any]:
        lower = path.lower().rstrip("/")
        if method == "PUT" and "/providers/microsoft.keyvault/vaults/" in lower:
            return self._recover_vault(lower, payload)
        if method != "GET":
            return _body(405, "MethodNotAllowed", f"{method} {path}")
        if lower in self.resources:
            return 200, self.resources[lower]
        for vault in self.vaults.values():
            if lower == vault.id.lower():
                return self._guard("Microsoft.KeyVault/vaults/read", path) or (200, {
                    "id": vault.id, "name": vault.name, "type": "Microsoft.KeyVault/vaults",
                    "location": "westeurope",
                    "properties": {**vault.properties, "vaultUri": f"{vault.url}/"}})
        if lower.endswith("/providers/microsoft.keyvault/deletedvaults"):
            return 200, {"value": [_deleted_vault(vault, when)
                                   for vault, when in self.deleted_vaults.values()
                                   if lower.startswith(f"/subscriptions/{vault.subscription}")]}
        scope, _, kind = lower.partition("/providers/microsoft.authorization/")
        if kind == "locks":
            return self._guard("Microsoft.Authorization/locks/read", path) or (200, {"value": [
                {"id": f"{lock['scope']}/providers/Microsoft.Authorization/locks/{lock['name']}",
                 "name": lock["name"], "type": "Microsoft.Authorization/locks",
                 "properties": {"level": lock["level"]}}
                for lock in self.locks if _covers(lock["scope"], scope)]})
        if kind == "roleassignments":
            principal = re.search(r"principalId eq '([^']+)'", query.get("$filter", ""))
            return self._guard("Microsoft.Authorization/roleAssignments/read", path) or (200, {
                "value": [_assignment(a) for a in self.assignments
                          if (_covers(a["scope"], scope) or _covers(scope, a["scope"]))
                          and (principal is None or a["principal"] == principal.group(1))]})
        if kind.startswith("roledefinitions/"):
            guid = kind.split("/", 1)[1]
            if guid not in ROLES:
                return _body(404, "RoleDefinitionDoesNotExist", guid)
            name, permissions = ROLES[guid]
            return 200, {"id": path, "name": guid,
                         "type": "Microsoft.Authorization/roleDefinitions",
                         "properties": {"roleName": name, "type": "BuiltInRole",
                                        "permissions": [permissions], "assignableScopes": ["/"]}}
        return _body(404, "ResourceNotFound", f"The Resource '{path}' was not found.")

    def _recover_vault(self, lower: str, payload: dict[str, Any]) -> tuple[int, Any]:
        """Vaults_CreateOrUpdate with ``properties.createMode: recover`` (keyvault.json,
        VaultProperties.createMode): a soft-deleted vault comes back with its keys; its role
        assignments do not (they were deleted with it)."""
        name = lower.rsplit("/", 1)[-1]
        if (payload.get("properties") or {}).get("createMode") != "recover":
            return _body(400, "BadRequest", "only createMode recover is faked")
        if name not in self.deleted_vaults:
            return _body(404, "ResourceNotFound", f"no deleted vault {name}")
        vault, _ = self.deleted_vaults.pop(name)
        self.vaults[name] = vault
        return 200, {"id": vault.id, "name": vault.name, "type": "Microsoft.KeyVault/vaults",
                     "location": payload.get("location", "westeurope"),
                     "properties": {**vault.properties, "vaultUri": f"{vault.url}/",
                                    "provisioningState": "Succeeded"}}

    def _guard(self, action: str, path: str) -> tuple[int, Any] | None:
        if action not in self.arm_denied:
            return None
        return _body(403, "AuthorizationFailed", (
            "The client 'operator@example.com' with object id "
            "'00000000-0000-0000-0000-0000000000aa' "
            f"does not have authorization to perform action '{action}' over scope '{path}' or "
            "the scope is invalid."))


def _covers(outer: str, inner: str) -> bool:
    """``outer`` is ``inner`` or one of its parent scopes (ARM ids compare case-insensitively)."""
    outer, inner = outer.lower().rstrip("/"), inner.lower().rstrip("/")
    return inner == outer or inner.startswith(outer + "/")


def _deleted_vault(vault: Vault, when: int) -> dict[str, Any]:
    def iso(epoch: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))

    return {"id": f"/subscriptions/{vault.subscription}/providers/Microsoft.KeyVault/locations/"
                  f"westeurope/deletedVaults/{vault.name}",
            "name": vault.name, "type": "Microsoft.KeyVault/deletedVaults",
            "properties": {"vaultId": vault.id, "location": "westeurope",
                           "deletionDate": iso(when), "scheduledPurgeDate": iso(when + 90 * DAY),
                           "purgeProtectionEnabled": True}}


def _assignment(a: dict[str, str]) -> dict[str, Any]:
    subscription = a["scope"].split("/")[2]
    name = str(uuid.uuid5(uuid.NAMESPACE_URL, a["scope"] + a["principal"] + a["role"]))
    return {"id": f"{a['scope']}/providers/Microsoft.Authorization/roleAssignments/{name}",
            "name": name, "type": "Microsoft.Authorization/roleAssignments",
            "properties": {"roleDefinitionId": f"/subscriptions/{subscription}/providers/"
                                               f"Microsoft.Authorization/roleDefinitions/{a['role']}",
                           "principalId": a["principal"], "principalType": "ServicePrincipal",
                           "scope": a["scope"]}}


def _action(segments: list[str], method: str) -> tuple[str, str]:
    """The RBAC data action and the operation name a data-plane request needs."""
    last = segments[-1] if segments else ""
    if method == "PATCH":
        return "Microsoft.KeyVault/vaults/keys/update/action", "update"
    if last == "wrapkey":
        return "Microsoft.KeyVault/vaults/keys/wrap/action", "wrapKey"
    if last == "unwrapkey":
        return "Microsoft.KeyVault/vaults/keys/unwrap/action", "unwrapKey"
    if last == "backup":
        return "Microsoft.KeyVault/vaults/keys/backup/action", "backup"
    if segments == ["keys", "restore"]:
        return "Microsoft.KeyVault/vaults/keys/restore/action", "restore"
    if last == "rotate":
        return "Microsoft.KeyVault/vaults/keys/rotate/action", "rotate"
    if last == "recover":
        return "Microsoft.KeyVault/vaults/deletedKeys/recover/action", "recover"
    if last == "rotationpolicy":
        return "Microsoft.KeyVault/vaults/keyrotationpolicies/read", "getRotationPolicy"
    return "Microsoft.KeyVault/vaults/keys/read", "get"


def _version(key: Key, wanted: str) -> Version | None:
    if not wanted:
        return key.versions[-1]
    return next((v for v in key.versions if v.version == wanted), None)


def _attributes(version: Version) -> dict[str, Any]:
    attributes: dict[str, Any] = {"enabled": version.enabled, "created": version.created,
                                  "updated": version.created, "recoveryLevel": "Recoverable",
                                  "recoverableDays": 90}
    if version.nbf is not None:
        attributes["nbf"] = version.nbf
    if version.exp is not None:
        attributes["exp"] = version.exp
    return attributes


def _body(status: int, code: str, message: str, inner: str | None = None) -> tuple[int, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner}
    return status, {"error": error}


def _reply(status: int, document: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {}, json.dumps(document).encode()


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    return _reply(*_body(status, code, message))


def now() -> int:
    return int(time.time())
