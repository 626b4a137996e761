// Command vault-secrets drives https://my-key-vault.vault.azure.net with azidentity and
// azsecrets at their default settings and prints one JSON object, like the Python and Node
// client scripts.
//
// DefaultAzureCredential reads AZURE_TENANT_ID/CLIENT_ID/CLIENT_SECRET; the vault URL is
// AZURE_KEYVAULT_URL; Go's net/http honours HTTPS_PROXY and NO_PROXY, and SSL_CERT_FILE (the
// system roots plus the local CA) replaces the trust store. Output: {"steps": {...}} or
// {"error": "..."}.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

func run(ctx context.Context) (map[string]any, error) {
	credential, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, fmt.Errorf("credential: %w", err)
	}
	client, err := azsecrets.NewClient(os.Getenv("AZURE_KEYVAULT_URL"), credential, nil)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return nil, err
	}
	name := "go-" + hex.EncodeToString(suffix)
	value := "from-go"
	set, err := client.SetSecret(ctx, name, azsecrets.SetSecretParameters{Value: &value}, nil)
	if err != nil {
		return nil, fmt.Errorf("set: %w", err)
	}
	got, err := client.GetSecret(ctx, name, "", nil)
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	var names []string
	pager := client.NewListSecretPropertiesPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		for _, secret := range page.Value {
			names = append(names, secret.ID.Name())
		}
	}
	return map[string]any{
		"name": name,
		"set":  map[string]string{"value": *set.Value, "version": set.ID.Version()},
		"get":  map[string]string{"value": *got.Value, "version": got.ID.Version()},
		"list": names,
	}, nil
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	steps, err := run(ctx)
	out := map[string]any{"steps": steps}
	if err != nil {
		out = map[string]any{"error": err.Error()}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}
