// Drive https://my-key-vault.vault.azure.net with @azure/identity and @azure/keyvault-secrets
// at default settings and print one JSON object.
//
// Usage: node vault_secrets.cjs
// DefaultAzureCredential reads AZURE_TENANT_ID/CLIENT_ID/CLIENT_SECRET; the vault URL is
// AZURE_KEYVAULT_URL; @azure/core-rest-pipeline's proxy policy reads HTTPS_PROXY/NO_PROXY and
// Node trusts the local CA through NODE_EXTRA_CA_CERTS. Output: {"steps": {...}} or
// {"error": "..."}.
"use strict";

const { DefaultAzureCredential } = require("@azure/identity");
const { SecretClient } = require("@azure/keyvault-secrets");
const crypto = require("node:crypto");

function describe(error) {
  const parts = [];
  for (let e = error; e; e = e.cause) parts.push(`${e.name}: ${e.message}`);
  return parts.join("\n  caused by ");
}

async function main() {
  const client = new SecretClient(process.env.AZURE_KEYVAULT_URL, new DefaultAzureCredential());
  const name = `node-${crypto.randomBytes(4).toString("hex")}`;
  const steps = {};
  try {
    const set = await client.setSecret(name, "from-node", { tags: { via: "node" } });
    steps.set = { version: set.properties.version, value: set.value };
    const got = await client.getSecret(name);
    steps.get = { version: got.properties.version, value: got.value, tags: got.properties.tags };
    steps.list = [];
    for await (const properties of client.listPropertiesOfSecrets()) steps.list.push(properties.name);
    steps.name = name;
  } catch (error) {
    console.log(JSON.stringify({ error: describe(error) }));
    return;
  }
  console.log(JSON.stringify({ steps }));
}

main().catch((error) => {
  console.log(JSON.stringify({ error: describe(error) }));
});
