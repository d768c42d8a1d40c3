package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// specYAML is the hand-written OpenAPI 3 document of every route (openapi.yaml). A test walks
// the router and the document both ways and validates real responses against it.
//
//go:embed openapi.yaml
var specYAML []byte

// Spec loads and validates the OpenAPI document.
func Spec() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(specYAML)
	if err != nil {
		return nil, fmt.Errorf("openapi: load: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: invalid document: %w", err)
	}
	return doc, nil
}

// SpecJSON returns the OpenAPI document as JSON, as served at /openapi.json.
func SpecJSON() ([]byte, error) {
	doc, err := Spec()
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}
