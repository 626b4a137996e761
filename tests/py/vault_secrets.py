"""Drive https://my-key-vault.vault.azure.net with the real SDKs at default settings and print
one JSON object.

Usage: python vault_secrets.py <flow>

Nothing is configured in code beyond what a user writes: the credential reads AZURE_TENANT_ID,
AZURE_CLIENT_ID, AZURE_CLIENT_SECRET; the vault URL is AZURE_KEYVAULT_URL; the proxy
(HTTPS_PROXY) and the trust bundle (REQUESTS_CA_BUNDLE) come from the environment that
`harness serve` exports. Instance discovery and challenge-resource verification stay on.

Flows:
  default      DefaultAzureCredential: set, get, list properties, update, second version,
               read by version, delete and recover pollers
  client-secret  ClientSecretCredential: set and get
  purge-after-delete  set, begin_delete_secret(...).wait(), then purge_deleted_secret at once:
               the delete poller must outlast the vault's being-deleted window
  other-host   requests.get("https://example.com") through the proxy; reports the failure

Output: {"steps": {...}} on success, otherwise {"error": "<what was raised>"}.
"""

import json
import os
import sys
import time
import uuid


def client(credential):
    from azure.keyvault.secrets import SecretClient

    return SecretClient(vault_url=os.environ["AZURE_KEYVAULT_URL"], credential=credential)


def flow_default():
    from azure.identity import DefaultAzureCredential

    secrets = client(DefaultAzureCredential())
    name = "py-" + uuid.uuid4().hex[:8]
    steps = {}
    first = secrets.set_secret(name, "v1", content_type="text/plain", tags={"a": "1"})
    steps["set"] = {"version": first.properties.version, "value": first.value}
    got = secrets.get_secret(name)
    steps["get"] = {"version": got.properties.version, "value": got.value,
                    "content_type": got.properties.content_type, "tags": got.properties.tags}
    steps["list"] = sorted(p.name for p in secrets.list_properties_of_secrets())
    updated = secrets.update_secret_properties(name, tags={"b": "2"}, enabled=True)
    steps["update"] = {"tags": updated.tags, "version": updated.version}
    second = secrets.set_secret(name, "v2")
    steps["second"] = {"version": second.properties.version, "value": second.value}
    steps["by_version"] = {
        "first": secrets.get_secret(name, first.properties.version).value,
        "second": secrets.get_secret(name, second.properties.version).value,
        "latest": secrets.get_secret(name).value,
    }
    steps["versions"] = len(list(secrets.list_properties_of_secret_versions(name)))
    deleted = secrets.begin_delete_secret(name).result()
    steps["delete"] = {"name": deleted.name, "recovery_id": deleted.recovery_id}
    steps["deleted_listed"] = name in [d.name for d in secrets.list_deleted_secrets()]
    recovered = secrets.begin_recover_deleted_secret(name).result()
    steps["recover"] = {"name": recovered.name}
    steps["after_recover"] = secrets.get_secret(name).value
    steps["name"] = name
    return steps


def flow_client_secret():
    from azure.identity import ClientSecretCredential

    credential = ClientSecretCredential(
        os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"],
        os.environ["AZURE_CLIENT_SECRET"])
    secrets = client(credential)
    name = "py-csc-" + uuid.uuid4().hex[:8]
    secrets.set_secret(name, "hello")
    return {"get": secrets.get_secret(name).value}


def flow_purge_after_delete():
    from azure.identity import DefaultAzureCredential

    secrets = client(DefaultAzureCredential())
    name = "py-purge-" + uuid.uuid4().hex[:8]
    secrets.set_secret(name, "gone soon")
    secrets.begin_delete_secret(name).wait()
    secrets.purge_deleted_secret(name)
    return {"purged": True,
            "deleted_listed": name in [d.name for d in secrets.list_deleted_secrets()]}


def flow_other_host():
    import requests

    started = time.monotonic()
    try:
        requests.get("https://example.com/", timeout=30)
    except Exception as error:  # noqa: BLE001 - the failure is what we report
        return {"failed": True, "message": repr(error), "seconds": time.monotonic() - started}
    return {"failed": False, "seconds": time.monotonic() - started}


FLOWS = {"default": flow_default, "client-secret": flow_client_secret,
         "purge-after-delete": flow_purge_after_delete, "other-host": flow_other_host}


def main():
    flow = FLOWS[sys.argv[1]]
    try:
        steps = flow()
    except Exception as error:  # noqa: BLE001 - report anything the SDK raised
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        return
    print(json.dumps({"steps": steps}))


if __name__ == "__main__":
    main()
