package address

import "testing"

func TestKnownProgramsAreValidAddressesAndRecognised(t *testing.T) {
	for a, name := range knownPrograms {
		if _, err := Parse(a); err != nil {
			t.Errorf("%s (%s) is not a valid address: %v", a, name, err)
		}
	}
	if n, ok := KnownProgram("11111111111111111111111111111111"); !ok || n != "System Program" {
		t.Errorf("system program not recognised: %q %v", n, ok)
	}
	if _, ok := KnownProgram("9o24Px7asSDJ1ZLyQhZd7vehm9kX4VuTeJh7VGryjXkm"); ok {
		t.Error("an ordinary wallet is reported as a program")
	}
}
