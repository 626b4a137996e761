"""Acquire one access token with a real client library and print one JSON object.

Usage: python get_token.py <flow>

Everything comes from the environment (the e2e tests set it; nothing is read from the
developer's shell, which the tests clear):
  AKV_E2E_AUTHORITY   https://127.0.0.1:PORT (authority host, no tenant)
  AKV_E2E_TENANT      tenant id or domain
  AKV_E2E_CLIENT_ID   application (client) id
  AKV_E2E_SECRET      client secret                      (*-secret flows)
  AKV_E2E_KEY_PEM     path to the private key, PEM       (msal-cert*)
  AKV_E2E_CERT_PEM    path to the certificate, PEM       (msal-cert*; identity-cert: key+cert)
  AKV_E2E_ASSERTION   path to a federated token file     (identity-assertion)
  AKV_E2E_SCOPE       defaults to https://vault.azure.net/.default
The standard variables drive the environment-configured credentials: AZURE_* for
identity-workload, IDENTITY_ENDPOINT/IDENTITY_HEADER or MSI_ENDPOINT for identity-managed.

Output: {"claims": {...}, "header": {...}, "access_token": "..."} on success, otherwise
{"error": "<what the library raised or returned>", "aadsts": <first AADSTS code or null>}.
"""

import base64
import json
import os
import re
import sys

SCOPE = os.environ.get("AKV_E2E_SCOPE", "https://vault.azure.net/.default")


def env(name):
    return os.environ[name]


def read(path_variable):
    with open(env(path_variable), encoding="utf-8") as f:
        return f.read()


def authority_url():
    # Nothing answers for login.microsoftonline.com yet (a later issue adds a routing proxy),
    # so the authority is the fake's own address and instance discovery, which would go to
    # the real login.microsoftonline.com for an unknown host, is turned off.
    return env("AKV_E2E_AUTHORITY") + "/" + env("AKV_E2E_TENANT")


def msal_token(client_credential):
    import msal

    app = msal.ConfidentialClientApplication(
        env("AKV_E2E_CLIENT_ID"),
        client_credential=client_credential,
        authority=authority_url(),
        instance_discovery=False,
    )
    result = app.acquire_token_for_client(scopes=[SCOPE])
    if "access_token" in result:
        return result["access_token"]
    codes = result.get("error_codes") or []
    message = "{}: {}".format(result.get("error"), result.get("error_description"))
    raise ReturnedError(message, codes[0] if codes else None)


class ReturnedError(Exception):
    """An error MSAL returned (MSAL reports token errors as a dict, not an exception)."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def identity_kwargs():
    return {"authority": env("AKV_E2E_AUTHORITY"), "disable_instance_discovery": True}


def flow_msal_secret():
    return msal_token(env("AKV_E2E_SECRET"))


def flow_msal_cert():
    # SHA-1 thumbprint: MSAL signs RS256 with x5t.
    return msal_token({
        "private_key": read("AKV_E2E_KEY_PEM"),
        "thumbprint": env("AKV_E2E_THUMBPRINT"),
    })


def flow_msal_cert_sha256():
    # No thumbprint but the certificate: MSAL >= 1.35 computes SHA-256, signs PS256 with x5t#S256.
    return msal_token({
        "private_key": read("AKV_E2E_KEY_PEM"),
        "public_certificate": read("AKV_E2E_CERT_PEM"),
    })


def flow_identity_secret():
    from azure.identity import ClientSecretCredential

    credential = ClientSecretCredential(
        env("AKV_E2E_TENANT"), env("AKV_E2E_CLIENT_ID"), env("AKV_E2E_SECRET"), **identity_kwargs()
    )
    return credential.get_token(SCOPE).token


def flow_identity_cert():
    from azure.identity import CertificateCredential

    credential = CertificateCredential(
        env("AKV_E2E_TENANT"),
        env("AKV_E2E_CLIENT_ID"),
        certificate_path=env("AKV_E2E_CERT_PEM"),
        **identity_kwargs(),
    )
    return credential.get_token(SCOPE).token


def flow_identity_assertion():
    from azure.identity import ClientAssertionCredential

    credential = ClientAssertionCredential(
        env("AKV_E2E_TENANT"),
        env("AKV_E2E_CLIENT_ID"),
        lambda: read("AKV_E2E_ASSERTION").strip(),
        **identity_kwargs(),
    )
    return credential.get_token(SCOPE).token


def flow_identity_workload():
    from azure.identity import WorkloadIdentityCredential

    # Tenant, client id, token file and authority host all come from AZURE_* variables, as
    # the workload identity webhook injects them.
    credential = WorkloadIdentityCredential(disable_instance_discovery=True)
    return credential.get_token(SCOPE).token


def flow_identity_managed():
    from azure.identity import ManagedIdentityCredential

    client_id = os.environ.get("AKV_E2E_CLIENT_ID")
    credential = ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()
    return credential.get_token(SCOPE).token


FLOWS = {
    "msal-secret": flow_msal_secret,
    "msal-cert": flow_msal_cert,
    "msal-cert-sha256": flow_msal_cert_sha256,
    "identity-secret": flow_identity_secret,
    "identity-cert": flow_identity_cert,
    "identity-assertion": flow_identity_assertion,
    "identity-workload": flow_identity_workload,
    "identity-managed": flow_identity_managed,
}


def decode_segment(segment):
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def describe(error):
    """The exception and its causes, as the traceback a user would read shows them."""
    parts = []
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        parts.append("{}: {}".format(type(error).__name__, error))
        error = error.__cause__ or error.__context__
    return "\n  caused by ".join(parts)


def main():
    flow = FLOWS[sys.argv[1]]
    try:
        token = flow()
    except Exception as error:  # noqa: BLE001 - report whatever the library raised
        code = error.code if isinstance(error, ReturnedError) else None
        message = describe(error)
        if code is None:
            found = re.search(r"AADSTS(\d+)", message)
            code = int(found.group(1)) if found else None
        print(json.dumps({"error": message, "aadsts": code}))
        return
    header, payload, _ = token.split(".")
    print(json.dumps({
        "claims": decode_segment(payload),
        "header": decode_segment(header),
        "access_token": token,
    }))


if __name__ == "__main__":
    main()
