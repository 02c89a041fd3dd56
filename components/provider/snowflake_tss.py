"""Snowflake Tri-Secret Secure self-registration with the customer's Azure key.

Every step is a ``snowflake.Execute`` on an explicit provider that logs in with a key pair
as ACCOUNTADMIN (Business Critical edition). What Execute does, per the installed SDK:
``execute`` runs on create and any change of it forces a replacement; ``revert`` runs
when the resource is destroyed (a replacement destroys the old one); ``query`` is read
on every refresh and change and its rows land in ``queryResults``. Hence:

- reverts never undo anything (:func:`snowflake_sql.keep_statement`); queries only read;
- the registration and the activation are ``protect``-ed, so a changed key, vault or
  private-link choice, or removing Snowflake from the stack, stops the update instead of
  re-registering or re-keying; changing the key is a deliberate runbook (README);
- activation runs only in the ``activate`` phase, after the verification step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_snowflake as snowflake

from components.config.common import Service
from components.config.key_uri import KeyUri, parse_key_uri
from components.config.provider import key_version_problem
from components.config.snowflake import ACCOUNTADMIN, SnowflakePhase, SnowflakeSpec
from components.provider import snowflake_sql as sql
from components.provider.binding import KeyUriError

JWT_AUTHENTICATOR = "SNOWFLAKE_JWT"
"""Key-pair authentication: the provider signs a JWT with the user's RSA private key."""


@dataclass(frozen=True)
class SnowflakeTssArgs:
    spec: SnowflakeSpec
    key_uri: KeyUri | pulumi.Output[str]
    """The customer's key (any version): registered as vault URI and key name."""
    key_source: str
    """Where the key came from, named in errors (config key or stack export)."""
    after: tuple[pulumi.Resource, ...] = field(default_factory=tuple)
    """What verification waits for: the customer's grant to Snowflake's principal, the pause."""


class SnowflakeTss(pulumi.ComponentResource):
    """Registers, verifies and (only when asked) activates the key for Tri-Secret Secure."""

    consent_url: pulumi.Output[str]
    """Azure consent URL the customer's admin opens to install Snowflake's app."""
    service_principal_name: pulumi.Output[str]
    """Name of Snowflake's service principal, which the customer grants on the key."""
    cmk_info: pulumi.Output[str]
    """SYSTEM$GET_CMK_INFO: registered, being activated, activated..."""
    verification: pulumi.Output[str] | None
    """SYSTEM$VERIFY_CMK_INFO's message (verify and activate phases)."""

    def __init__(self, name: str, args: SnowflakeTssArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("dedicated-cmk:provider:SnowflakeTss", name, None, opts)
        spec = args.spec
        account = snowflake_provider(f"{name}-account", spec, self)
        key = _checked(args)

        def step(role: str, execute: pulumi.Input[str], query: str, *, protect: bool = False,
                 after: list[pulumi.Resource] | None = None) -> snowflake.Execute:
            return snowflake.Execute(
                f"{name}-{role}",
                execute=execute,
                revert=sql.keep_statement(f"dedicated-cmk-kept-{role}"),
                query=query,
                opts=pulumi.ResourceOptions(parent=self, provider=account, protect=protect,
                                            depends_on=after or []),
            )

        register = step(
            "register",
            key.apply(lambda k: sql.register_statement(k, spec.privatelink)),
            sql.info_statement(),
            protect=True,
        )
        config = step("config", sql.config_statement(spec.customer_tenant_id),
                      sql.config_statement(spec.customer_tenant_id), after=[register])
        parsed = config.query_results.apply(
            lambda rows: sql.parse_cmk_config(sql.first_value(rows, sql.CONFIG_COLUMN)))
        self.consent_url = parsed.apply(lambda c: c.consent_url if c else "")
        self.service_principal_name = parsed.apply(
            lambda c: c.service_principal_name if c else "")
        self.cmk_info = register.query_results.apply(
            lambda rows: sql.first_value(rows, sql.INFO_COLUMN))
        self.verification = None
        if spec.phase != SnowflakePhase.REGISTER:
            verify = step("verify", sql.verify_statement(), sql.verify_statement(),
                          after=[config, *args.after])
            self.verification = verify.query_results.apply(
                lambda rows: sql.first_value(rows, sql.VERIFY_COLUMN))
            if spec.phase == SnowflakePhase.ACTIVATE:
                # Re-keys the account; protected so that no config change undoes or repeats it.
                activate = step("activate", sql.activate_statement(), sql.info_statement(),
                                protect=True, after=[verify])
                self.cmk_info = activate.query_results.apply(
                    lambda rows: sql.first_value(rows, sql.INFO_COLUMN))
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """What the customer needs from Snowflake's side: the consent click and who to grant."""
        outputs: dict[str, pulumi.Input[object]] = {
            "consentUrl": self.consent_url,
            "servicePrincipalName": self.service_principal_name,
            "cmkInfo": self.cmk_info,
        }
        if self.verification is not None:
            outputs["verification"] = self.verification
        return outputs


def snowflake_provider(name: str, spec: SnowflakeSpec,
                       parent: pulumi.Resource) -> snowflake.Provider:
    """The account's provider: key-pair login as ACCOUNTADMIN, the key kept secret."""
    return snowflake.Provider(
        name,
        organization_name=spec.organization_name,
        account_name=spec.account_name,
        user=spec.user,
        role=ACCOUNTADMIN,
        authenticator=JWT_AUTHENTICATOR,
        # None: the provider reads SNOWFLAKE_PRIVATE_KEY(_PASSPHRASE) from the environment.
        private_key=pulumi.Output.secret(spec.private_key) if spec.private_key else None,
        private_key_passphrase=(pulumi.Output.secret(spec.private_key_passphrase)
                                if spec.private_key_passphrase else None),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _checked(args: SnowflakeTssArgs) -> pulumi.Output[KeyUri]:
    """The key, checked again when it comes from another resource or stack."""
    def check(value: KeyUri | str) -> KeyUri:
        key = value if isinstance(value, KeyUri) else parse_key_uri(value)
        if key is None:
            raise KeyUriError(f"{args.key_source}: {value!r} is not a key URI")
        if problem := key_version_problem(Service.SNOWFLAKE, key, True):
            raise KeyUriError(f"{args.key_source}: {problem}")
        return key

    if isinstance(args.key_uri, KeyUri):
        return pulumi.Output.from_input(check(args.key_uri))
    return args.key_uri.apply(check)
