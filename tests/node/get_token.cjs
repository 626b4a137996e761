// Acquire one access token with @azure/identity and print one JSON object.
//
// Usage: node get_token.cjs <flow>   (flows: identity-secret, identity-cert)
// Same variables and output as tests/py/get_token.py: AKV_E2E_AUTHORITY, AKV_E2E_TENANT,
// AKV_E2E_CLIENT_ID, AKV_E2E_SECRET, AKV_E2E_CERT_PEM (key + cert), AKV_E2E_SCOPE.
// The packages come from the cached install the tests point NODE_PATH at; the fake's CA
// from NODE_EXTRA_CA_CERTS.
"use strict";

const identity = require("@azure/identity");

const scope = process.env.AKV_E2E_SCOPE || "https://vault.azure.net/.default";

function env(name) {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

// Nothing answers for login.microsoftonline.com yet (a later issue adds a routing proxy), so
// the authority host is the fake's own address and instance discovery is off.
function options() {
  return { authorityHost: env("AKV_E2E_AUTHORITY"), disableInstanceDiscovery: true };
}

const flows = {
  "identity-secret": () =>
    new identity.ClientSecretCredential(
      env("AKV_E2E_TENANT"), env("AKV_E2E_CLIENT_ID"), env("AKV_E2E_SECRET"), options()),
  "identity-cert": () =>
    new identity.ClientCertificateCredential(
      env("AKV_E2E_TENANT"), env("AKV_E2E_CLIENT_ID"),
      { certificatePath: env("AKV_E2E_CERT_PEM") }, options()),
};

function decode(segment) {
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
}

// The error and its causes, as a user would read them.
function describe(error) {
  const parts = [];
  for (let e = error; e; e = e.cause) parts.push(`${e.name}: ${e.message}`);
  return parts.join("\n  caused by ");
}

async function main() {
  const flow = flows[process.argv[2]];
  if (!flow) throw new Error(`unknown flow ${process.argv[2]}`);
  let token;
  try {
    token = (await flow().getToken(scope)).token;
  } catch (error) {
    const message = describe(error);
    const found = /AADSTS(\d+)/.exec(message);
    console.log(JSON.stringify({ error: message, aadsts: found ? Number(found[1]) : null }));
    return;
  }
  const [header, payload] = token.split(".");
  console.log(JSON.stringify({ claims: decode(payload), header: decode(header), access_token: token }));
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
