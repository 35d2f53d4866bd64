// Oracle for test/core/objects-oracle.test.ts: runs the real upstream Azure provider (v1.8.2, pinned in
// go.mod) on `objects` parameters and prints what it made of each, so our TypeScript parser can be
// compared with the Go original (yaml.v3 semantics, error texts, per-object validation).
//
// stdin: JSON array of objects-parameter strings. stdout: JSON array of results, one per input:
//
//	{"error": "<upstream error text>"} or {"objects": [<the KeyVaultObjects, trimmed>]}.
//
// With the argument "mount": stdin is a JSON array of {"attributes": {...}, "secrets": {...}} (a whole
// SPC parameters map plus pod attributes) and each result is {"error": ...} or {} when the provider
// accepted every parameter (callers pass `objects: "array: []"` so it stops before any network use).
package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"

	"github.com/Azure/go-autorest/autorest/azure"
	"github.com/Azure/secrets-store-csi-driver-provider-azure/pkg/provider"
	"github.com/Azure/secrets-store-csi-driver-provider-azure/pkg/provider/types"
	"gopkg.in/yaml.v3"
)

type result struct {
	Error   *string          `json:"error,omitempty"`
	Objects []map[string]any `json:"objects,omitempty"`
}

// An invalid vault name makes the provider stop right after parsing and validating the objects
// (before any credential or network use), with an error that starts with this prefix.
const afterValidation = "failed to get vault"

type mountInput struct {
	Attributes map[string]string `json:"attributes"`
	Secrets    map[string]string `json:"secrets"`
}

func mount() {
	var inputs []mountInput
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		panic(err)
	}
	p := provider.NewProvider(true, false, azure.PublicCloud)
	results := make([]result, 0, len(inputs))
	for _, in := range inputs {
		_, err := p.GetSecretsStoreObjectContent(context.Background(), in.Attributes, in.Secrets, 0o644)
		if err != nil {
			msg := err.Error()
			results = append(results, result{Error: &msg})
			continue
		}
		results = append(results, result{})
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		panic(err)
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "mount" {
		mount()
		return
	}
	var inputs []string
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		panic(err)
	}
	p := provider.NewProvider(true, false, azure.PublicCloud)
	results := make([]result, 0, len(inputs))
	for _, text := range inputs {
		attrib := map[string]string{
			"csi.storage.k8s.io/pod.name":      "pod",
			"csi.storage.k8s.io/pod.namespace": "ns",
			"useVMManagedIdentity":             "true",
			"keyvaultName":                     "x",
			"tenantId":                         "tenant",
			"objects":                          text,
		}
		_, err := p.GetSecretsStoreObjectContent(context.Background(), attrib, nil, 0o644)
		if err != nil && !strings.HasPrefix(err.Error(), afterValidation) {
			msg := err.Error()
			results = append(results, result{Error: &msg})
			continue
		}
		// Parsing succeeded in the provider; decode the same way to report the fields.
		array, _ := types.GetObjectsArray(types.GetObjects(attrib))
		objects := []map[string]any{}
		for _, item := range array.Array {
			var kv types.KeyVaultObject
			_ = yaml.Unmarshal([]byte(item), &kv)
			objects = append(objects, map[string]any{
				"objectName":           strings.TrimSpace(kv.ObjectName),
				"objectType":           strings.TrimSpace(kv.ObjectType),
				"objectAlias":          strings.TrimSpace(kv.ObjectAlias),
				"objectVersion":        strings.TrimSpace(kv.ObjectVersion),
				"objectVersionHistory": kv.ObjectVersionHistory,
				"objectFormat":         strings.TrimSpace(kv.ObjectFormat),
				"objectEncoding":       strings.TrimSpace(kv.ObjectEncoding),
				"filePermission":       strings.TrimSpace(kv.FilePermission),
			})
		}
		results = append(results, result{Objects: objects})
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		panic(err)
	}
}
