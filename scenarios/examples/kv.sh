#!/bin/sh
# Reads a Key Vault secret the way any client does, through the bench's routing proxy:
# a client-credentials token from login.microsoftonline.com, then GET on the vault.
# Prints the value, `token-error:<AADSTS codes>` or the Key Vault error code.
# Usage: sh kv.sh SECRET-NAME   (uses AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET,
# AZURE_KEYVAULT_URL, HTTPS_PROXY and SSL_CERT_FILE from the scenario's environment)
set -eu
response=$(curl -sS --cacert "$SSL_CERT_FILE" \
  "https://login.microsoftonline.com/$AZURE_TENANT_ID/oauth2/v2.0/token" \
  -d client_id="$AZURE_CLIENT_ID" --data-urlencode client_secret="$AZURE_CLIENT_SECRET" \
  -d grant_type=client_credentials -d scope=https://vault.azure.net/.default)
token=$(printf '%s' "$response" | jq -r '.access_token // empty')
if [ -z "$token" ]; then
  printf 'token-error:%s\n' "$(printf '%s' "$response" | jq -r '.error_codes | map(tostring) | join(",")')"
  exit 0
fi
curl -sS --cacert "$SSL_CERT_FILE" -H "Authorization: Bearer $token" \
  "$AZURE_KEYVAULT_URL/secrets/$1?api-version=7.4" | jq -r '.value // .error.code'
