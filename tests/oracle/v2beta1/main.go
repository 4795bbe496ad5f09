// Command oracle writes, as a YAML stream, the objects the EMQX Operator (2.2 line, pinned in
// go.mod) creates for an apps.emqx.io/v2beta1 or v2alpha1 EMQX resource: the resource is pruned
// and defaulted by the API server's own structural-schema code against the operator's CRD (read
// from the operator module); a v2alpha1 one is then converted to v2beta1 by the operator's own
// ConvertTo (what its conversion webhook runs) and pruned and defaulted again as v2beta1; the
// result is handed to the operator's own generators (generators.go). Usage: oracle CRD.yaml EMQX.yaml [EMQX_CONFIG.hocon]
// The optional config is what the operator would read from the running EMQX's /api/v5/configs
// (for the dashboard and listener Service ports); without it, the merged default config.
// The objects are those of the converged cluster: its status says every replicant is ready.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	appsv2alpha1 "github.com/emqx/emqx-operator/apis/apps/v2alpha1"
	appsv2beta1 "github.com/emqx/emqx-operator/apis/apps/v2beta1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"sigs.k8s.io/yaml"
)

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "oracle: "+format+"\n", a...)
	os.Exit(2)
}

// structural gives the structural schema of version v of the CRD in file.
func structural(file, v string) *structuralschema.Structural {
	raw, err := os.ReadFile(file)
	if err != nil {
		fail("%v", err)
	}
	var crd apiextv1.CustomResourceDefinition
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		fail("%s: %v", file, err)
	}
	for _, ver := range crd.Spec.Versions {
		if ver.Name != v || ver.Schema == nil {
			continue
		}
		var internal apiextensions.JSONSchemaProps
		if err := apiextv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(ver.Schema.OpenAPIV3Schema, &internal, nil); err != nil {
			fail("%s: %v", file, err)
		}
		s, err := structuralschema.NewStructural(&internal)
		if err != nil {
			fail("%s: %v", file, err)
		}
		return s
	}
	fail("%s has no version %s", file, v)
	return nil
}

func main() {
	if len(os.Args) < 3 || len(os.Args) > 4 {
		fail("usage: oracle CRD.yaml EMQX.yaml [EMQX_CONFIG.hocon]")
	}
	raw, err := os.ReadFile(os.Args[2])
	if err != nil {
		fail("%v", err)
	}
	var obj map[string]interface{}
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		fail("%s: %v", os.Args[2], err)
	}
	if obj["kind"] != "EMQX" || (obj["apiVersion"] != "apps.emqx.io/v2beta1" && obj["apiVersion"] != "apps.emqx.io/v2alpha1") {
		fmt.Fprintf(os.Stderr, "oracle: %s is %v %v; only apps.emqx.io/v2beta1 and v2alpha1 EMQX have an oracle\n", os.Args[2], obj["apiVersion"], obj["kind"])
		os.Exit(3)
	}
	if obj["apiVersion"] == "apps.emqx.io/v2alpha1" {
		obj = fromV2alpha1(os.Args[1], obj)
	}
	// What the API server does to a custom resource before the operator sees it.
	s := structural(os.Args[1], "v2beta1")
	structuralpruning.Prune(obj, s, true)
	structuraldefaulting.Default(obj, s)

	var emqx appsv2beta1.EMQX
	decode(obj, &emqx)
	if emqx.Namespace == "" {
		emqx.Namespace = "default"
	}
	// The converged cluster: every replicant is ready. (The operator points the listeners Service
	// at the replicants only once its status counts ready ones.)
	if emqx.Spec.ReplicantTemplate != nil && emqx.Spec.ReplicantTemplate.Spec.Replicas != nil {
		emqx.Status.ReplicantNodesStatus.ReadyReplicas = *emqx.Spec.ReplicantTemplate.Spec.Replicas
	}
	config := mergeDefaultConfig(emqx.Spec.Config.Data)
	if len(os.Args) == 4 {
		c, err := os.ReadFile(os.Args[3])
		if err != nil {
			fail("%v", err)
		}
		config = string(c)
	}

	var out []any
	out = append(out, generateConfigMap(&emqx, mergeDefaultConfig(emqx.Spec.Config.Data)), generateHeadlessService(&emqx))
	if svc := generateDashboardService(&emqx, config); svc != nil {
		out = append(out, svc)
	}
	if svc := generateListenerService(&emqx, config); svc != nil {
		out = append(out, svc)
	}
	out = append(out, getNewStatefulSet(&emqx))
	if emqx.Spec.ReplicantTemplate != nil && emqx.Spec.ReplicantTemplate.Spec.Replicas != nil && *emqx.Spec.ReplicantTemplate.Spec.Replicas > 0 {
		out = append(out, getNewReplicaSet(&emqx))
	}
	// The operator makes the core PDB always and the replicant one with replicants.
	core, repl := generatePodDisruptionBudget(&emqx)
	out = append(out, core)
	if repl != nil {
		out = append(out, repl)
	}
	for _, o := range out {
		b, err := yaml.Marshal(o)
		if err != nil {
			fail("%v", err)
		}
		fmt.Printf("---\n%s", b)
	}
}

// decode turns an unstructured object into a typed one.
func decode(obj map[string]interface{}, into any) {
	js, err := json.Marshal(obj)
	if err != nil {
		fail("%v", err)
	}
	if err := json.Unmarshal(js, into); err != nil {
		fail("%s: %v", os.Args[2], err)
	}
}

// fromV2alpha1 is a v2alpha1 resource as the operator's conversion webhook hands it on: pruned
// and defaulted as v2alpha1, then converted by the operator's ConvertTo.
func fromV2alpha1(crd string, obj map[string]interface{}) map[string]interface{} {
	s := structural(crd, "v2alpha1")
	structuralpruning.Prune(obj, s, true)
	structuraldefaulting.Default(obj, s)
	var old appsv2alpha1.EMQX
	decode(obj, &old)
	var hub appsv2beta1.EMQX
	if err := old.ConvertTo(&hub); err != nil {
		fail("converting to v2beta1: %v", err)
	}
	js, err := json.Marshal(&hub)
	if err != nil {
		fail("%v", err)
	}
	out := map[string]interface{}{}
	if err := json.Unmarshal(js, &out); err != nil {
		fail("%v", err)
	}
	return out
}
