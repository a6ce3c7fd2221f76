// Package spec is a test helper: it holds the Berlin Group NextGenPSD2
// 1.3.12 OpenAPI file and validates response bodies against an
// operation's response schema, for contract tests of the Berlin Group
// dialect.
//
// psd2-api_v1.3.12-2022-07-06.yaml is the Berlin Group's "NextGenPSD2
// XS2A Framework" OpenAPI file (CC-BY 4.0, https://www.berlin-group.org),
// unmodified (taken from adorsys/xs2a-adapter @ 9b35691d).
package spec

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed psd2-api_v1.3.12-2022-07-06.yaml
var file []byte

var (
	once    sync.Once
	doc     *openapi3.T
	loadErr error
)

// Doc returns the specification, loaded and validated (without its
// examples).
func Doc() (*openapi3.T, error) {
	once.Do(func() {
		l := openapi3.NewLoader()
		if doc, loadErr = l.LoadFromData(file); loadErr != nil {
			loadErr = fmt.Errorf("read NextGenPSD2 1.3.12: %w", loadErr)
			return
		}
		if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
			loadErr = fmt.Errorf("NextGenPSD2 1.3.12 is not valid: %w", err)
		}
	})
	return doc, loadErr
}

// Operation finds an operation by its operationId (e.g. "getAccountList").
func Operation(operationID string) (*openapi3.Operation, error) {
	d, err := Doc()
	if err != nil {
		return nil, err
	}
	for _, item := range d.Paths.Map() {
		for _, op := range item.Operations() {
			if op.OperationID == operationID {
				return op, nil
			}
		}
	}
	return nil, fmt.Errorf("NextGenPSD2 1.3.12 has no operation %q", operationID)
}

// ValidateResponse checks a JSON response body against the schema of the
// operation's response with that status, and refuses properties the
// schema does not define (a misspelt field cannot pass).
func ValidateResponse(operationID string, status int, body []byte) error {
	op, err := Operation(operationID)
	if err != nil {
		return err
	}
	resp := op.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return fmt.Errorf("%s has no %d response in NextGenPSD2 1.3.12", operationID, status)
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return fmt.Errorf("%s's %d response has no JSON schema", operationID, status)
	}
	return validate(operationID, status, mt.Schema.Value, body)
}

// ValidateSchema checks a body against one of the file's component
// schemas, for answers whose operation's oneOf cannot tell them apart (a
// periodic payment's body also matches the single payment's schema, which
// allows other properties, so getPaymentInformation's oneOf refuses it).
func ValidateSchema(name string, body []byte) error {
	d, err := Doc()
	if err != nil {
		return err
	}
	ref, ok := d.Components.Schemas[name]
	if !ok || ref.Value == nil {
		return fmt.Errorf("NextGenPSD2 1.3.12 has no schema %q", name)
	}
	return validate(name, 0, ref.Value, body)
}

func validate(operationID string, status int, schema *openapi3.Schema, body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("%s: the body is not JSON: %w", operationID, err)
	}
	if err := schema.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse()); err != nil {
		return fmt.Errorf("%s %d: the body does not match the schema: %w", operationID, status, err)
	}
	var unknown []string
	unknownProperties(schema, v, "$", &unknown, 0)
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("%s %d: properties the schema does not define: %s", operationID, status, strings.Join(unknown, ", "))
	}
	return nil
}

func properties(s *openapi3.Schema, into map[string]*openapi3.Schema) (open bool) {
	for name, p := range s.Properties {
		if p != nil && p.Value != nil {
			into[name] = p.Value
		}
	}
	if ap := s.AdditionalProperties; ap.Schema != nil || ap.Has != nil && *ap.Has {
		open = true
	}
	for _, part := range append(append(append([]*openapi3.SchemaRef{}, s.AllOf...), s.OneOf...), s.AnyOf...) {
		if part != nil && part.Value != nil && properties(part.Value, into) {
			open = true
		}
	}
	return open
}

func unknownProperties(s *openapi3.Schema, v any, path string, out *[]string, depth int) {
	if s == nil || depth > 32 {
		return
	}
	switch v := v.(type) {
	case map[string]any:
		props := map[string]*openapi3.Schema{}
		if properties(s, props) {
			return
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if p, ok := props[k]; ok {
				unknownProperties(p, v[k], path+"."+k, out, depth+1)
			} else {
				*out = append(*out, path+"."+k)
			}
		}
	case []any:
		if s.Items != nil && s.Items.Value != nil {
			for i, e := range v {
				unknownProperties(s.Items.Value, e, fmt.Sprintf("%s[%d]", path, i), out, depth+1)
			}
		}
	}
}
