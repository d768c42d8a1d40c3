package deploytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/solcrowd/backend/libs/observe"
)

// cnpgCluster is the part of CloudNativePG's Cluster (postgresql.cnpg.io/v1) the manifests use.
// Decoding is strict, so a misspelt or misplaced field fails here rather than in the cluster.
type cnpgCluster struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Instances             int    `json:"instances"`
		ImageName             string `json:"imageName"`
		PrimaryUpdateStrategy string `json:"primaryUpdateStrategy"`
		Storage               struct {
			Size string `json:"size"`
		} `json:"storage"`
		Bootstrap struct {
			InitDB struct {
				Database string `json:"database"`
				Owner    string `json:"owner"`
			} `json:"initdb"`
		} `json:"bootstrap"`
		Resources corev1.ResourceRequirements `json:"resources"`
	} `json:"spec"`
}

// cluster is one overlay built and decoded.
type cluster struct {
	namespace    string
	deployments  map[string]*appsv1.Deployment
	statefulsets map[string]*appsv1.StatefulSet
	services     map[string]*corev1.Service
	configMaps   map[string]*corev1.ConfigMap
	pdbs         []*policyv1.PodDisruptionBudget
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	netpols      []*networkingv1.NetworkPolicy
	ingresses    []*networkingv1.Ingress
	pg           []cnpgCluster
}

func strictDecoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, autoscalingv2.AddToScheme, networkingv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
}

// builtOverlay is an overlay's objects and the problems found building and decoding them.
type builtOverlay struct {
	c    cluster
	errs []string
}

// overlayCache builds each overlay once per test binary; every test still reports its problems.
var overlayCache sync.Map // overlay name → *builtOverlay

// buildOverlay runs kustomize over an overlay and decodes every object strictly into its API type.
func buildOverlay(t *testing.T, overlay string) cluster {
	t.Helper()
	v, ok := overlayCache.Load(overlay)
	if !ok {
		v, _ = overlayCache.LoadOrStore(overlay, renderOverlay(t, overlay))
	}
	b := v.(*builtOverlay)
	for _, e := range b.errs {
		t.Error(e)
	}
	if b.c.namespace == "" {
		t.FailNow()
	}
	return b.c
}

func renderOverlay(t *testing.T, overlay string) *builtOverlay {
	t.Helper()
	out := &builtOverlay{}
	fail := func(format string, args ...any) { out.errs = append(out.errs, fmt.Sprintf(format, args...)) }
	dir := filepath.Join(repoRoot(t), "deploy", "k8s", "overlays", overlay)
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		fail("kustomize build %s: %v", overlay, err)
		return out
	}
	dec := strictDecoder(t)
	c := cluster{
		deployments: map[string]*appsv1.Deployment{}, statefulsets: map[string]*appsv1.StatefulSet{},
		services: map[string]*corev1.Service{}, configMaps: map[string]*corev1.ConfigMap{},
	}
	for _, r := range rm.Resources() {
		id := r.CurId().String()
		y, err := r.AsYAML()
		if err != nil {
			fail("%s: %s: %v", overlay, id, err)
			continue
		}
		if r.GetApiVersion() == "postgresql.cnpg.io/v1" && r.GetKind() == "Cluster" {
			var pg cnpgCluster
			js, err := r.MarshalJSON()
			if err != nil {
				fail("%s: %s: %v", overlay, id, err)
				continue
			}
			d := json.NewDecoder(bytes.NewReader(js))
			d.DisallowUnknownFields()
			if err := d.Decode(&pg); err != nil {
				fail("%s: %s: %v", overlay, id, err)
			}
			c.pg = append(c.pg, pg)
			continue
		}
		obj, _, err := dec.Decode(y, nil, nil)
		if err != nil {
			fail("%s: %s does not decode strictly: %v", overlay, id, err)
			continue
		}
		switch o := obj.(type) {
		case *corev1.Namespace:
			if c.namespace != "" {
				fail("%s: two namespaces", overlay)
			}
			c.namespace = o.Name
		case *appsv1.Deployment:
			c.deployments[o.Name] = o
		case *appsv1.StatefulSet:
			c.statefulsets[o.Name] = o
		case *corev1.Service:
			c.services[o.Name] = o
		case *corev1.ConfigMap:
			c.configMaps[o.Name] = o
		case *policyv1.PodDisruptionBudget:
			c.pdbs = append(c.pdbs, o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			c.hpas = append(c.hpas, o)
		case *networkingv1.NetworkPolicy:
			c.netpols = append(c.netpols, o)
		case *networkingv1.Ingress:
			c.ingresses = append(c.ingresses, o)
		default:
			fail("%s: %s: no check for %T; add one", overlay, id, obj)
		}
	}
	if c.namespace == "" {
		fail("%s: no Namespace object", overlay)
	}
	for _, r := range rm.Resources() {
		if r.GetKind() != "Namespace" && r.GetNamespace() != c.namespace {
			fail("%s: %s is in namespace %q, want %q", overlay, r.CurId(), r.GetNamespace(), c.namespace)
		}
	}
	out.c = c
	return out
}

var overlays = []string{"dev", "prod"}

// env is the environment a container gets: its ConfigMaps' data and its env entries. Values that
// come from a Secret are filled with the variable's default (so LoadConfig can run), and noted.
type env struct {
	vars       map[string]string
	fromSecret map[string]*corev1.SecretKeySelector
}

func containerEnv(t *testing.T, c cluster, ctr corev1.Container, svc Service) env {
	t.Helper()
	e := env{vars: map[string]string{}, fromSecret: map[string]*corev1.SecretKeySelector{}}
	for _, from := range ctr.EnvFrom {
		if from.ConfigMapRef == nil || from.Prefix != "" {
			t.Errorf("%s: envFrom must name a ConfigMap without prefix: %+v", svc.Name, from)
			continue
		}
		cm, ok := c.configMaps[from.ConfigMapRef.Name]
		if !ok {
			t.Errorf("%s: envFrom ConfigMap %q does not exist", svc.Name, from.ConfigMapRef.Name)
			continue
		}
		for k, v := range cm.Data {
			e.vars[k] = v
		}
	}
	defaults := map[string]string{}
	for _, v := range svc.Vars {
		defaults[v.Name] = v.Default
	}
	for _, ev := range ctr.Env {
		switch {
		case ev.ValueFrom == nil:
			e.vars[ev.Name] = ev.Value
		case ev.ValueFrom.SecretKeyRef != nil:
			e.fromSecret[ev.Name] = ev.ValueFrom.SecretKeyRef
			if d := defaults[ev.Name]; d != "" {
				e.vars[ev.Name] = d
			} else if ev.ValueFrom.SecretKeyRef.Optional == nil || !*ev.ValueFrom.SecretKeyRef.Optional {
				e.vars[ev.Name] = "x"
			}
		default:
			t.Errorf("%s: env %s: only values and secretKeyRefs are expected", svc.Name, ev.Name)
		}
	}
	return e
}

// opsPaths are the probe paths every ops server must answer 200 on, checked against the real
// handler of libs/observe rather than a list.
func servedOK(t *testing.T, path string) bool {
	t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		return false
	}
	rec := httptest.NewRecorder()
	observe.Handler(observe.NewHealth(), prometheus.NewRegistry()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.String(), nil))
	return rec.Code == http.StatusOK
}

func namedPort(ctr corev1.Container, p intstr.IntOrString) (int32, bool) {
	if p.Type == intstr.Int {
		return p.IntVal, true
	}
	for _, cp := range ctr.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

func TestOverlaysDeployEveryServiceAsItsConfigSays(t *testing.T) {
	for _, overlay := range overlays {
		t.Run(overlay, func(t *testing.T) {
			c := buildOverlay(t, overlay)
			if len(c.deployments) != len(Services()) {
				t.Errorf("%d Deployments, want one per service (%d)", len(c.deployments), len(Services()))
			}
			for _, svc := range Services() {
				d, ok := c.deployments[svc.Name]
				if !ok {
					t.Errorf("no Deployment %s", svc.Name)
					continue
				}
				checkDeployment(t, c, d, svc)
			}
		})
	}
}

func checkDeployment(t *testing.T, c cluster, d *appsv1.Deployment, svc Service) {
	t.Helper()
	pod := d.Spec.Template.Spec
	sel, err := metaSelector(d.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("%s: selector %v does not match its pod labels", svc.Name, d.Spec.Selector)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: want one container, got %d", svc.Name, len(pod.Containers))
	}
	ctr := pod.Containers[0]
	if !strings.Contains(ctr.Image, "solcrowd/"+svc.Name) {
		t.Errorf("%s: image %q is not the service's", svc.Name, ctr.Image)
	}
	if i := strings.LastIndex(ctr.Image, ":"); i < 0 || strings.Contains(ctr.Image[i:], "/") || ctr.Image[i+1:] == "latest" {
		t.Errorf("%s: image %q needs an explicit tag (not latest) so rollouts are reproducible", svc.Name, ctr.Image)
	}

	// Environment: only variables the service reads, every required one set, and LoadConfig accepts it.
	e := containerEnv(t, c, ctr, svc)
	names := svc.Names()
	for k := range e.vars {
		if !names[k] {
			t.Errorf("%s: sets %s, which its config does not read", svc.Name, k)
		}
	}
	for k := range e.fromSecret {
		if !names[k] {
			t.Errorf("%s: sets %s from a Secret, which its config does not read", svc.Name, k)
		}
	}
	for _, v := range svc.Vars {
		if v.Required {
			ref := e.fromSecret[v.Name]
			if _, ok := e.vars[v.Name]; !ok || (ref != nil && ref.Optional != nil && *ref.Optional) {
				t.Errorf("%s: required %s is not set for sure", svc.Name, v.Name)
			}
		}
	}
	loaded, err := svc.Load(e.vars)
	if err != nil {
		t.Fatalf("%s: LoadConfig rejects the manifest's environment: %v", svc.Name, err)
	}
	if err := loaded.CheckLogger(); err != nil {
		t.Errorf("%s: the logger settings would stop the service: %v", svc.Name, err)
	}

	// Ports and probes: on the ops port the config listens on, at paths the ops server answers.
	opsPort, err := Port(loaded.OpsAddr)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := namedPort(ctr, intstr.FromString("ops")); !ok || strconv.Itoa(int(p)) != opsPort {
		t.Errorf("%s: container port \"ops\" is %d, the service listens on %s", svc.Name, p, loaded.OpsAddr)
	}
	probes := map[string]*corev1.Probe{"liveness": ctr.LivenessProbe, "readiness": ctr.ReadinessProbe}
	if ctr.StartupProbe != nil {
		probes["startup"] = ctr.StartupProbe
	}
	for kind, p := range probes {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s: %s probe must be an HTTP GET", svc.Name, kind)
			continue
		}
		if port, ok := namedPort(ctr, p.HTTPGet.Port); !ok || strconv.Itoa(int(port)) != opsPort {
			t.Errorf("%s: %s probe port %s is not the ops port %s", svc.Name, kind, p.HTTPGet.Port.String(), opsPort)
		}
		if !servedOK(t, p.HTTPGet.Path) {
			t.Errorf("%s: %s probe path %q is not answered 200 by the ops server", svc.Name, kind, p.HTTPGet.Path)
		}
	}
	if ctr.LivenessProbe != nil && ctr.LivenessProbe.HTTPGet != nil && ctr.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("%s: liveness must use /healthz (a failing dependency must not restart the pod)", svc.Name)
	}
	if ctr.ReadinessProbe != nil && ctr.ReadinessProbe.HTTPGet != nil && ctr.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("%s: readiness must use /readyz", svc.Name)
	}
	if loaded.HTTPAddr != "" {
		httpPort, err := Port(loaded.HTTPAddr)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := namedPort(ctr, intstr.FromString("http")); !ok || strconv.Itoa(int(p)) != httpPort {
			t.Errorf("%s: container port \"http\" is %d, the API listens on %s", svc.Name, p, loaded.HTTPAddr)
		}
	}

	// A Service selects the pods and targets ports the container has.
	s, ok := c.services[svc.Name]
	if !ok {
		t.Errorf("%s: no Service", svc.Name)
	} else {
		if !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) || len(s.Spec.Selector) == 0 {
			t.Errorf("%s: Service selector %v does not select the pods", svc.Name, s.Spec.Selector)
		}
		for _, sp := range s.Spec.Ports {
			if _, ok := namedPort(ctr, sp.TargetPort); !ok {
				t.Errorf("%s: Service port %s targets %s, which the container lacks", svc.Name, sp.Name, sp.TargetPort.String())
			}
		}
	}

	// Graceful termination outlasts the service's own shutdown budget.
	if pod.TerminationGracePeriodSeconds == nil || float64(*pod.TerminationGracePeriodSeconds) <= loaded.ShutdownTimeout.Seconds() {
		t.Errorf("%s: terminationGracePeriodSeconds must exceed SHUTDOWN_TIMEOUT %s", svc.Name, loaded.ShutdownTimeout)
	}

	// Security: non-root, read-only root, no privilege escalation, no capabilities.
	checkSecurity(t, svc.Name, pod, ctr)

	// Resources: requests and limits for CPU and memory, requests within limits.
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := ctr.Resources.Requests[r]
		lim, hasLim := ctr.Resources.Limits[r]
		if !hasReq || !hasLim {
			t.Errorf("%s: %s request and limit must both be set", svc.Name, r)
		} else if req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s exceeds limit %s", svc.Name, r, req.String(), lim.String())
		}
	}
}

func checkSecurity(t *testing.T, name string, pod corev1.PodSpec, ctr corev1.Container) {
	t.Helper()
	psc, sc := pod.SecurityContext, ctr.SecurityContext
	nonRoot := (psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot) || (sc != nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot)
	if !nonRoot {
		t.Errorf("%s: runAsNonRoot is not set", name)
	}
	for _, uid := range []*int64{psc.RunAsUser, sc.RunAsUser} {
		if uid != nil && *uid == 0 {
			t.Errorf("%s: runs as uid 0", name)
		}
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: root filesystem is not read-only", name)
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: privilege escalation is not forbidden", name)
	}
	if sc == nil || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		t.Errorf("%s: capabilities must drop ALL and add none", name)
	}
	if sc != nil && sc.Privileged != nil && *sc.Privileged {
		t.Errorf("%s: privileged", name)
	}
}

func TestProdScalesCampaignIndexerAndGateway(t *testing.T) {
	c := buildOverlay(t, "prod")
	for _, name := range []string{"campaign", "indexer"} {
		d := c.deployments[name]
		if d == nil || d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
			t.Errorf("prod %s: want 2 replicas", name)
		}
	}
	for _, overlay := range overlays {
		c := buildOverlay(t, overlay)
		gw := c.deployments["gateway"]
		if gw == nil {
			t.Fatal("no gateway")
		}
		var hpa *autoscalingv2.HorizontalPodAutoscaler
		for _, h := range c.hpas {
			if h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == "gateway" {
				hpa = h
			}
		}
		if hpa == nil || hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 1 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
			t.Errorf("%s: the gateway needs a sane HorizontalPodAutoscaler", overlay)
		}
		if hpa != nil && gw.Spec.Replicas != nil {
			t.Errorf("%s: the gateway Deployment sets replicas; every apply would undo its autoscaler", overlay)
		}
		if overlay == "prod" && (hpa == nil || *hpa.Spec.MinReplicas < 2) {
			t.Errorf("prod: the gateway HPA must keep at least 2 replicas")
		}
		// Every multi-replica workload (and the gateway) has a disruption budget selecting its pods.
		for name, d := range c.deployments {
			if name != "gateway" && (d.Spec.Replicas == nil || *d.Spec.Replicas < 2) {
				continue
			}
			if !pdbCovers(c, d.Spec.Template.Labels) {
				t.Errorf("%s: no PodDisruptionBudget covers %s", overlay, name)
			}
		}
	}
}

func pdbCovers(c cluster, podLabels map[string]string) bool {
	for _, p := range c.pdbs {
		sel, err := metaSelector(p.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(podLabels)) {
			return true
		}
	}
	return false
}

// TestNATSIsAThreeNodeJetStreamCluster parses the rendered nats.conf with the nats-server the
// tests run against and checks it against the StatefulSet and the services' NATS settings.
func TestNATSIsAThreeNodeJetStreamCluster(t *testing.T) {
	for _, overlay := range overlays {
		t.Run(overlay, func(t *testing.T) {
			c := buildOverlay(t, overlay)
			sts := c.statefulsets["nats"]
			if sts == nil || sts.Spec.Replicas == nil || *sts.Spec.Replicas != 3 {
				t.Fatal("want a StatefulSet nats with 3 replicas")
			}
			if !pdbCovers(c, sts.Spec.Template.Labels) {
				t.Error("no PodDisruptionBudget covers nats")
			}
			ctr := sts.Spec.Template.Spec.Containers[0]
			checkSecurity(t, "nats", sts.Spec.Template.Spec, ctr)
			if want := "nats:" + natsServerVersion(t) + "-alpine"; ctr.Image != want {
				t.Errorf("NATS image %q, want %q (the server version the tests run against)", ctr.Image, want)
			}
			var confVol string
			for _, v := range sts.Spec.Template.Spec.Volumes {
				if v.ConfigMap != nil {
					confVol = v.ConfigMap.Name
				}
			}
			cm := c.configMaps[confVol]
			if cm == nil || cm.Data["nats.conf"] == "" {
				t.Fatalf("the NATS config map %q has no nats.conf", confVol)
			}
			conf := filepath.Join(t.TempDir(), "nats.conf")
			if err := os.WriteFile(conf, []byte(cm.Data["nats.conf"]), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("POD_NAME", "nats-0")
			opts, err := server.ProcessConfigFile(conf)
			if err != nil {
				t.Fatalf("nats.conf: %v", err)
			}
			if !opts.JetStream || opts.StoreDir == "" || opts.ServerName != "nats-0" {
				t.Errorf("nats.conf: jetstream=%v store=%q name=%q", opts.JetStream, opts.StoreDir, opts.ServerName)
			}
			if len(opts.Routes) != int(*sts.Spec.Replicas) {
				t.Errorf("nats.conf has %d routes for %d replicas", len(opts.Routes), *sts.Spec.Replicas)
			}
			for i, r := range opts.Routes {
				want := fmt.Sprintf("nats-%d.%s:%d", i, sts.Spec.ServiceName, opts.Cluster.Port)
				if r.Host != want {
					t.Errorf("route %d is %s, want %s", i, r.Host, want)
				}
			}
			if hl := c.services[sts.Spec.ServiceName]; hl == nil || hl.Spec.ClusterIP != "None" || !hl.Spec.PublishNotReadyAddresses {
				t.Errorf("the StatefulSet's service %q must be headless and publish not-ready addresses", sts.Spec.ServiceName)
			}
			mounted := false
			for _, m := range ctr.VolumeMounts {
				if strings.HasPrefix(opts.StoreDir, m.MountPath+"/") || opts.StoreDir == m.MountPath {
					mounted = m.Name == sts.Spec.VolumeClaimTemplates[0].Name
				}
			}
			if !mounted {
				t.Errorf("the JetStream store %s is not on the persistent volume", opts.StoreDir)
			}

			// Clients reach a Service that selects the NATS pods on the client port; streams are
			// replicated on every node.
			common := c.configMaps["solcrowd-common"]
			if common == nil {
				for name, cm := range c.configMaps {
					if strings.HasPrefix(name, "solcrowd-common") {
						common = cm
					}
				}
			}
			if common == nil {
				t.Fatal("no solcrowd-common ConfigMap")
			}
			u, err := url.Parse(common.Data["NATS_URL"])
			if err != nil {
				t.Fatalf("NATS_URL: %v", err)
			}
			s := c.services[u.Hostname()]
			if s == nil || !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(sts.Spec.Template.Labels)) {
				t.Errorf("NATS_URL host %q is not a Service selecting the NATS pods", u.Hostname())
			} else if !slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool {
				return strconv.Itoa(int(p.Port)) == u.Port() && p.TargetPort.String() == "client"
			}) {
				t.Errorf("Service %s has no port %s to the client port", s.Name, u.Port())
			}
			if n, _ := strconv.Atoi(common.Data["NATS_REPLICAS"]); n != int(*sts.Spec.Replicas) {
				t.Errorf("NATS_REPLICAS=%q; want %d, one copy per node", common.Data["NATS_REPLICAS"], *sts.Spec.Replicas)
			}
		})
	}
}

func TestPostgresIsACloudNativePGCluster(t *testing.T) {
	for _, overlay := range overlays {
		c := buildOverlay(t, overlay)
		if len(c.pg) != 1 {
			t.Fatalf("%s: want one CloudNativePG Cluster, got %d", overlay, len(c.pg))
		}
		pg := c.pg[0]
		if pg.Spec.Instances < 1 || pg.Spec.Storage.Size == "" || pg.Spec.Bootstrap.InitDB.Database == "" {
			t.Errorf("%s: incomplete Cluster %+v", overlay, pg.Spec)
		}
		if overlay == "prod" && pg.Spec.Instances < 3 {
			t.Errorf("prod: want 3 Postgres instances, got %d", pg.Spec.Instances)
		}
		var ref *corev1.SecretKeySelector
		for _, ev := range c.deployments["campaign"].Spec.Template.Spec.Containers[0].Env {
			if ev.Name == "DATABASE_URL" && ev.ValueFrom != nil {
				ref = ev.ValueFrom.SecretKeyRef
			}
		}
		// CloudNativePG writes <cluster>-app with the application user's connection URI in "uri".
		if ref == nil || ref.Name != pg.Metadata.Name+"-app" || ref.Key != "uri" || (ref.Optional != nil && *ref.Optional) {
			t.Errorf("%s: campaign's DATABASE_URL must come from Secret %s-app key uri, got %+v", overlay, pg.Metadata.Name, ref)
		}
	}
}

// TestOnlyTheGatewayIsReachableFromOutside: ingress is denied by default to every pod, and the
// only rule admitting traffic from anywhere selects the gateway's pods on its API port.
func TestOnlyTheGatewayIsReachableFromOutside(t *testing.T) {
	for _, overlay := range overlays {
		c := buildOverlay(t, overlay)
		denyAll := false
		for _, np := range c.netpols {
			if len(np.Spec.PodSelector.MatchLabels) == 0 && len(np.Spec.PodSelector.MatchExpressions) == 0 &&
				slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) && len(np.Spec.Ingress) == 0 {
				denyAll = true
			}
		}
		if !denyAll {
			t.Errorf("%s: no default-deny ingress policy", overlay)
		}
		gw := c.deployments["gateway"]
		for _, np := range c.netpols {
			sel, err := metaSelector(&np.Spec.PodSelector)
			if err != nil {
				t.Fatal(err)
			}
			for _, rule := range np.Spec.Ingress {
				open := len(rule.From) == 0
				for _, peer := range rule.From {
					if peer.IPBlock != nil || (peer.NamespaceSelector != nil && len(peer.NamespaceSelector.MatchLabels) == 0 && len(peer.NamespaceSelector.MatchExpressions) == 0) {
						open = true
					}
				}
				if !open {
					continue
				}
				for name, d := range c.deployments {
					if name != "gateway" && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
						t.Errorf("%s: policy %s opens %s to the outside", overlay, np.Name, name)
					}
				}
				for name, s := range c.statefulsets {
					if sel.Matches(labels.Set(s.Spec.Template.Labels)) {
						t.Errorf("%s: policy %s opens %s to the outside", overlay, np.Name, name)
					}
				}
				if len(rule.Ports) == 0 {
					t.Errorf("%s: policy %s opens every port to the outside", overlay, np.Name)
				}
				for _, p := range rule.Ports {
					if p.Port == nil {
						t.Errorf("%s: policy %s opens a whole protocol", overlay, np.Name)
						continue
					}
					if !isHTTPPort(gw, *p.Port) {
						t.Errorf("%s: policy %s opens port %s, not the gateway's API port", overlay, np.Name, p.Port.String())
					}
				}
			}
		}
	}
}

func TestIngressReachesTheGatewayAPI(t *testing.T) {
	for _, overlay := range overlays {
		c := buildOverlay(t, overlay)
		for _, ing := range c.ingresses {
			for _, rule := range ing.Spec.Rules {
				for _, path := range rule.HTTP.Paths {
					b := path.Backend.Service
					if b == nil {
						t.Errorf("%s: ingress %s has a non-service backend", overlay, ing.Name)
						continue
					}
					svc := c.services[b.Name]
					if b.Name != "gateway" || svc == nil {
						t.Errorf("%s: ingress %s routes to %q, want the gateway Service", overlay, ing.Name, b.Name)
						continue
					}
					ok := slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool {
						return (b.Port.Name != "" && p.Name == b.Port.Name || b.Port.Number != 0 && p.Port == b.Port.Number) &&
							isHTTPPort(c.deployments["gateway"], p.TargetPort)
					})
					if !ok {
						t.Errorf("%s: ingress %s's port %+v does not reach the gateway's API port", overlay, ing.Name, b.Port)
					}
				}
			}
		}
		if overlay == "prod" && len(c.ingresses) == 0 {
			t.Error("prod has no Ingress for the gateway")
		}
	}
}

func isHTTPPort(gw *appsv1.Deployment, p intstr.IntOrString) bool {
	want, ok := namedPort(gw.Spec.Template.Spec.Containers[0], intstr.FromString("http"))
	got, ok2 := namedPort(gw.Spec.Template.Spec.Containers[0], p)
	return ok && ok2 && want == got
}
