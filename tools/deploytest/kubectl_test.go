package deploytest

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// TestKubectlKustomizeAgrees builds each overlay with `kubectl kustomize` too, when kubectl is
// installed, and checks it renders the same objects as the kustomize Go API the other tests use,
// so the manifests do not depend on one kustomize version's quirks.
func TestKubectlKustomizeAgrees(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed; the kustomize Go API checks still ran")
	}
	for _, overlay := range overlays {
		dir := filepath.Join(repoRoot(t), "deploy", "k8s", "overlays", overlay)
		var stderr bytes.Buffer
		cmd := exec.Command(kubectl, "kustomize", dir)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kubectl kustomize %s: %v\n%s", overlay, err, stderr.Bytes())
		}
		var got []string
		for _, doc := range strings.Split(string(out), "\n---\n") {
			var meta struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name      string `json:"name"`
					Namespace string `json:"namespace"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				t.Fatalf("kubectl kustomize %s: %v", overlay, err)
			}
			got = append(got, meta.Kind+"/"+meta.Metadata.Namespace+"/"+meta.Metadata.Name)
		}
		rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, r := range rm.Resources() {
			want = append(want, r.GetKind()+"/"+r.GetNamespace()+"/"+r.GetName())
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: kubectl kustomize renders\n%v\nthe Go API renders\n%v", overlay, got, want)
		}
	}
}

// TestSecretTemplateMatchesTheManifests: the Secret template decodes strictly, holds only
// variables some service reads, and has every key the Deployments take from it.
func TestSecretTemplateMatchesTheManifests(t *testing.T) {
	obj, _, err := strictDecoder(t).Decode(readFile(t, "deploy/k8s/secret.example.yaml"), nil, nil)
	if err != nil {
		t.Fatalf("secret.example.yaml: %v", err)
	}
	sec, ok := obj.(*corev1.Secret)
	if !ok {
		t.Fatalf("secret.example.yaml holds a %T", obj)
	}
	for k, v := range sec.StringData {
		read := false
		for _, s := range Services() {
			read = read || s.Reads(k)
		}
		if !read {
			t.Errorf("template key %s is read by no service", k)
		}
		if v != "" {
			t.Errorf("template key %s has a value; the template must hold no secrets", k)
		}
	}
	if len(sec.Data) > 0 {
		t.Error("the template must use stringData with empty values only")
	}
	for _, overlay := range overlays {
		c := buildOverlay(t, overlay)
		for name, d := range c.deployments {
			for _, ev := range d.Spec.Template.Spec.Containers[0].Env {
				ref := ev.ValueFrom
				if ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != sec.Name {
					continue
				}
				if _, ok := sec.StringData[ref.SecretKeyRef.Key]; !ok {
					t.Errorf("%s: %s takes %s from Secret %s, which the template lacks", overlay, name, ref.SecretKeyRef.Key, sec.Name)
				}
				required := slices.ContainsFunc(Services(), func(s Service) bool {
					return s.Name == name && slices.ContainsFunc(s.Vars, func(v Var) bool { return v.Name == ev.Name && v.Required })
				})
				if !required && (ref.SecretKeyRef.Optional == nil || !*ref.SecretKeyRef.Optional) {
					t.Errorf("%s: %s: %s must be optional so the pods start before the operator adds the Secret", overlay, name, ev.Name)
				}
			}
		}
	}
}
