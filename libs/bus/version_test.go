package bus

import "testing"

func TestVersionAtLeast(t *testing.T) {
	for v, want := range map[string]bool{"2.15.3": true, "2.10.0": true, "2.9.10": false, "3.0.0": true, "1.99.0": false, "": false, "x": false} {
		if got := versionAtLeast(v, 2, 10); got != want {
			t.Errorf("%q: got %v", v, got)
		}
	}
}

func TestRedactHidesPasswords(t *testing.T) {
	got := redact("nats://user:hunter2@a:4222, nats://b:4222")
	if got != "nats://user:xxxxx@a:4222,nats://b:4222" {
		t.Fatalf("got %q", got)
	}
}
