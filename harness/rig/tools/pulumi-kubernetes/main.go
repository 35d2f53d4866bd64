// Command pulumi-resource-kubernetes is the upstream pulumi-kubernetes provider plugin
// (github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider) at the version pinned in go.mod, serving
// the schema of that same version. Upstream's own main is identical but cannot be built from the module zip.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

// Written by schema-embed.go from the pinned module's cmd/pulumi-resource-kubernetes (build.sh runs it).
//
//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
