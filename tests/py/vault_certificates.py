"""Drive certificates and keys at https://my-key-vault.vault.azure.net with the real SDKs
(azure-keyvault-certificates, azure-keyvault-keys, azure-keyvault-secrets) at default settings,
and print one JSON object.

Usage: python vault_certificates.py

The environment is the one `harness serve` exports (credential, proxy, CA bundle, vault URL);
the caller must have granted the app Key Vault Certificates Officer and Crypto Officer.

Steps: create a self-signed certificate (poller), read its operation, get it, read its managed
secret (a PFX, parsed with `cryptography`) and managed key; import a PFX, a password-protected
PFX (a wrong password first) and a PEM certificate; list; update; read the policy; delete (poller), recover (poller), delete again and
purge. Keys: create RSA and EC, get, list, delete (poller).

Output: {"steps": {...}} on success, otherwise {"error": "<what was raised>"}.
"""

import base64
import datetime
import json
import os
import uuid


def text(value):
    """An SDK enum's wire string (str() of one is its Python name)."""
    return getattr(value, "value", value)


def self_signed(key, common_name):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .sign(key, hashes.SHA256())
    )


def certificate_steps(certs, secrets, keys, suffix):
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
    from azure.keyvault.certificates import (
        CertificateContentType,
        CertificatePolicy,
        KeyType,
        WellKnownIssuerNames,
    )
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    steps = {}
    name = "py-cert-" + suffix
    policy = CertificatePolicy(
        issuer_name=WellKnownIssuerNames.self,
        subject="CN=py.example",
        san_dns_names=["py.example"],
        key_type=KeyType.rsa,
        key_size=2048,
        exportable=True,
        content_type=CertificateContentType.pkcs12,
        validity_in_months=12,
    )
    created = certs.begin_create_certificate(name, policy, tags={"via": "python"}).result()
    steps["create"] = {"name": created.name, "version": created.properties.version,
                       "tags": created.properties.tags, "subject": created.policy.subject}
    operation = certs.get_certificate_operation(name)
    steps["operation"] = {"status": operation.status, "target": operation.target}
    got = certs.get_certificate(name)
    parsed = x509.load_der_x509_certificate(bytes(got.cer))
    sans = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    steps["get"] = {
        "version": got.properties.version,
        "subject": parsed.subject.rfc4514_string(),
        "sans": sans.get_values_for_type(x509.DNSName),
        "thumbprint_matches": got.properties.x509_thumbprint == parsed.fingerprint(hashes.SHA1()),
        "key_id": got.key_id,
        "secret_id": got.secret_id,
    }

    secret = secrets.get_secret(name)
    key, leaf, _ = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), None)
    steps["secret"] = {
        "content_type": secret.properties.content_type,
        "managed": secret.properties.managed,
        "key_id": secret.properties.key_id,
        "pfx_key_is_rsa": isinstance(key, rsa.RSAPrivateKey),
        "pfx_cert_matches": leaf.public_bytes(serialization.Encoding.DER) == bytes(got.cer),
        "pfx_key_matches": key.public_key().public_numbers()
        == parsed.public_key().public_numbers(),
    }
    managed_key = keys.get_key(name)
    steps["key"] = {"managed": managed_key.properties.managed,
                    "kty": text(managed_key.key_type),
                    "n_matches": int.from_bytes(managed_key.key.n, "big")
                    == parsed.public_key().public_numbers().n}

    # Import a PFX (no password) of an EC key, as a user exporting from another store would.
    pfx_name = "py-pfx-" + suffix
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_cert = self_signed(ec_key, "pfx.example")
    pfx = pkcs12.serialize_key_and_certificates(
        b"pfx", ec_key, ec_cert, None, serialization.NoEncryption())
    imported = certs.import_certificate(pfx_name, pfx, tags={"managed-by": "external-secrets"})
    steps["import_pfx"] = {
        "cer_matches": bytes(imported.cer) == ec_cert.public_bytes(serialization.Encoding.DER),
        "issuer": imported.policy.issuer_name,
        "content_type": text(imported.policy.content_type),
        "key_type": text(imported.policy.key_type),
    }

    # Import a password-protected PFX (cryptography's BestAvailableEncryption: PBES2 with
    # AES-256-CBC), first with a wrong password, as `az keyvault certificate import --password`
    # users do; the backing secret is then the PFX without a password.
    pwd_name = "py-pwd-" + suffix
    pwd_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pwd_cert = self_signed(pwd_key, "pwd.example")
    protected = pkcs12.serialize_key_and_certificates(
        b"pwd", pwd_key, pwd_cert, None, serialization.BestAvailableEncryption(b"s3cret"))
    try:
        certs.import_certificate(pwd_name, protected, password="wrong")
        steps["import_wrong_password"] = "imported"
    except HttpResponseError as error:
        steps["import_wrong_password"] = {"status": error.status_code,
                                          "code": error.error.code if error.error else None,
                                          "message": error.error.message if error.error else None}
    imported = certs.import_certificate(pwd_name, protected, password="s3cret")
    pwd_secret = secrets.get_secret(pwd_name)
    pwd_secret_key, pwd_secret_cert, _ = pkcs12.load_key_and_certificates(
        base64.b64decode(pwd_secret.value), None)
    steps["import_pfx_password"] = {
        "cer_matches": bytes(imported.cer) == pwd_cert.public_bytes(serialization.Encoding.DER),
        "content_type": pwd_secret.properties.content_type,
        "secret_key_matches": pwd_secret_key.private_numbers() == pwd_key.private_numbers(),
        "secret_cert_matches": pwd_secret_cert == pwd_cert,
    }

    # Import PEM text (PKCS#8 key, then the certificate).
    pem_name = "py-pem-" + suffix
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_cert = self_signed(rsa_key, "pem.example")
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()) + rsa_cert.public_bytes(serialization.Encoding.PEM)
    imported = certs.import_certificate(
        pem_name, pem, policy=CertificatePolicy(content_type=CertificateContentType.pem))
    pem_secret = secrets.get_secret(pem_name)
    pem_key = serialization.load_pem_private_key(pem_secret.value.encode(), None)
    pem_cert = x509.load_pem_x509_certificate(pem_secret.value.encode())
    steps["import_pem"] = {
        "cer_matches": bytes(imported.cer) == rsa_cert.public_bytes(serialization.Encoding.DER),
        "content_type": pem_secret.properties.content_type,
        "secret_key_matches": pem_key.private_numbers() == rsa_key.private_numbers(),
        "secret_cert_matches": pem_cert == rsa_cert,
    }

    steps["list"] = sorted(c.name for c in certs.list_properties_of_certificates())
    steps["versions"] = len(list(certs.list_properties_of_certificate_versions(name)))
    steps["secret_listed_managed"] = [
        s.managed for s in secrets.list_properties_of_secrets() if s.name == name]
    updated = certs.update_certificate_properties(name, tags={"updated": "yes"})
    steps["update"] = {"tags": updated.properties.tags, "version": updated.properties.version}
    steps["policy"] = {"subject": certs.get_certificate_policy(name).subject,
                       "validity": certs.get_certificate_policy(name).validity_in_months}

    deleted = certs.begin_delete_certificate(name).result()
    steps["delete"] = {"name": deleted.name, "recovery_id": deleted.recovery_id}
    steps["deleted_listed"] = name in [d.name for d in certs.list_deleted_certificates()]
    try:
        secrets.get_secret(name)
        steps["secret_after_delete"] = "found"
    except ResourceNotFoundError:
        steps["secret_after_delete"] = "not found"
    recovered = certs.begin_recover_deleted_certificate(name).result()
    steps["recover"] = {"name": recovered.name,
                        "cer_matches": bytes(recovered.cer) == bytes(got.cer)}
    certs.begin_delete_certificate(name).result()
    certs.purge_deleted_certificate(name)
    try:
        certs.get_deleted_certificate(name)
        steps["purged"] = False
    except ResourceNotFoundError:
        steps["purged"] = True
    steps["name"] = name
    return steps


def key_steps(keys, suffix):
    rsa_name = "py-rsa-" + suffix
    ec_name = "py-ec-" + suffix
    rsa_key = keys.create_rsa_key(rsa_name, size=2048, tags={"via": "python"})
    ec_key = keys.create_ec_key(ec_name, curve="P-256")
    got = keys.get_key(rsa_name)
    listed = sorted(k.name for k in keys.list_properties_of_keys())
    deleted = keys.begin_delete_key(ec_name).result()
    return {
        "rsa": {"kty": text(rsa_key.key_type), "n_bytes": len(rsa_key.key.n),
                "same_on_get": got.key.n == rsa_key.key.n, "tags": got.properties.tags},
        "ec": {"kty": text(ec_key.key_type), "crv": text(ec_key.key.crv),
               "x_bytes": len(ec_key.key.x)},
        "list": listed,
        "delete": {"name": deleted.name, "recovery_id": deleted.recovery_id},
        "names": [rsa_name, ec_name],
    }


def main():
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.certificates import CertificateClient
    from azure.keyvault.keys import KeyClient
    from azure.keyvault.secrets import SecretClient

    url = os.environ["AZURE_KEYVAULT_URL"]
    credential = DefaultAzureCredential()
    certs = CertificateClient(vault_url=url, credential=credential)
    secrets = SecretClient(vault_url=url, credential=credential)
    keys = KeyClient(vault_url=url, credential=credential)
    suffix = uuid.uuid4().hex[:8]
    return {
        "certificates": certificate_steps(certs, secrets, keys, suffix),
        "keys": key_steps(keys, suffix),
        "suffix": suffix,
    }


if __name__ == "__main__":
    try:
        print(json.dumps({"steps": main()}))
    except Exception as error:  # noqa: BLE001 - report anything the SDK raised
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
