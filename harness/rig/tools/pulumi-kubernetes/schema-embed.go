//go:build ignore

// Writes schema-embed.json (schema.json with the package version set, as upstream's generate.go does) and
// terraform-mapping-embed.json (compacted) into the current directory, from the pinned module's
// cmd/pulumi-resource-kubernetes directory. Usage: go run schema-embed.go <module cmd dir> <version>
package main

import (
	"encoding/json"
	"log"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: go run schema-embed.go <pulumi-resource-kubernetes source dir> <version>")
	}
	dir, version := os.Args[1], os.Args[2]

	var schema map[string]json.RawMessage
	readJSON(filepath.Join(dir, "schema.json"), &schema)
	versionJSON, err := json.Marshal(version)
	if err != nil {
		log.Fatal(err)
	}
	schema["version"] = versionJSON
	writeJSON("schema-embed.json", schema)

	var mapping any
	readJSON(filepath.Join(dir, "terraform-mapping.json"), &mapping)
	writeJSON("terraform-mapping-embed.json", mapping)
}

func readJSON(path string, into any) {
	contents, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(contents, into); err != nil {
		log.Fatalf("%s: %v", path, err)
	}
}

func writeJSON(path string, value any) {
	contents, err := json.Marshal(value)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, contents, 0o600); err != nil {
		log.Fatal(err)
	}
}
