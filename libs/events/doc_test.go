package events

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// docs/events.md is the contract outside consumers read; it must name every field and subject.
func TestDocsNameEveryFieldAndSubject(t *testing.T) {
	b, err := os.ReadFile("../../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, v := range []any{Contribution{}, CampaignEvent{}, Campaign{}, SOLPrice{}, TokenInfo{}, PumpFunState{}, Checkpoint{}} {
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !strings.Contains(doc, "`"+name+"`") {
				t.Errorf("docs/events.md does not document %s.%s", rt.Name(), name)
			}
		}
	}
	for _, s := range Streams {
		for _, subj := range s.Subjects {
			if !strings.Contains(doc, "`"+subj+"`") {
				t.Errorf("docs/events.md does not name subject %s", subj)
			}
		}
	}
	for _, subj := range []string{SubjectCampaignCreate, SubjectCampaignGet, SubjectCampaignList, SubjectCampaignUpdate, SubjectCampaignCancel,
		SubjectCampaignEscrowTx, SubjectCampaignWatch, SubjectCampaignStats, SubjectPricerToken, SubjectPricerSOLPrice,
		SubjectIndexerBalance, SubjectIndexerHealth, SubjectIndexerStats} {
		if !strings.Contains(doc, "`"+subj+"`") {
			t.Errorf("docs/events.md does not name request subject %s", subj)
		}
	}
}
