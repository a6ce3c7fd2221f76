// Package spec is a test helper: it holds the PolishAPI 2.1.2 specification
// (Swagger 2.0, converted to OpenAPI 3 with kin-openapi) and validates
// response bodies against an operation's response schema, for contract
// tests of the PolishAPI dialect.
//
// PolishAPI-ver2_1_2.yaml is the Polish Bank Association's specification
// ("Polish API Specification is licensed under CC BY 3.0 PL", ZBP /
// polishapi.org), unmodified.
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

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed PolishAPI-ver2_1_2.yaml
var polishAPI []byte

var (
	once    sync.Once
	doc     *openapi3.T
	loadErr error
)

// Doc returns the specification, converted to OpenAPI 3 and validated
// (without its examples, some of which do not match their own schemas).
func Doc() (*openapi3.T, error) {
	once.Do(func() {
		var doc2 openapi2.T
		if loadErr = openapi2.UnmarshalFromData(polishAPI, &doc2); loadErr != nil {
			loadErr = fmt.Errorf("read PolishAPI 2.1.2: %w", loadErr)
			return
		}
		if doc, loadErr = openapi2conv.ToV3(&doc2); loadErr != nil {
			loadErr = fmt.Errorf("convert PolishAPI 2.1.2 to OpenAPI 3: %w", loadErr)
			return
		}
		if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
			loadErr = fmt.Errorf("PolishAPI 2.1.2 as OpenAPI 3 is not valid: %w", err)
		}
	})
	return doc, loadErr
}

// Operation finds an operation by its operationId (e.g. "getAccounts").
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
	return nil, fmt.Errorf("PolishAPI 2.1.2 has no operation %q", operationID)
}

// ResponseSchema is the JSON schema of an operation's response with the
// given status.
func ResponseSchema(operationID string, status int) (*openapi3.Schema, error) {
	op, err := Operation(operationID)
	if err != nil {
		return nil, err
	}
	resp := op.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return nil, fmt.Errorf("%s has no %d response in PolishAPI 2.1.2", operationID, status)
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, fmt.Errorf("%s's %d response has no JSON schema", operationID, status)
	}
	return mt.Schema.Value, nil
}

// ValidateResponse checks a response body against the schema of the
// operation's response with that status: types, required properties,
// patterns, lengths, enums and the date and date-time formats. It is also
// strict where the standard is lax: a property the schema does not name is
// an error, so that a misspelt field cannot pass.
func ValidateResponse(operationID string, status int, body []byte) error {
	schema, err := ResponseSchema(operationID, status)
	if err != nil {
		return err
	}
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

// properties collects the properties a schema defines, its allOf parts'
// included, and its additionalProperties schema if it allows any.
func properties(s *openapi3.Schema, into map[string]*openapi3.Schema) (additional *openapi3.Schema, open bool) {
	for name, p := range s.Properties {
		if p != nil && p.Value != nil {
			into[name] = p.Value
		}
	}
	if ap := s.AdditionalProperties; ap.Schema != nil && ap.Schema.Value != nil {
		additional, open = ap.Schema.Value, true
	}
	for _, part := range s.AllOf {
		if part != nil && part.Value != nil {
			if a, o := properties(part.Value, into); o {
				additional, open = a, true
			}
		}
	}
	return additional, open
}

func unknownProperties(s *openapi3.Schema, v any, path string, out *[]string, depth int) {
	if s == nil || depth > 32 {
		return
	}
	switch v := v.(type) {
	case map[string]any:
		props := map[string]*openapi3.Schema{}
		additional, open := properties(s, props)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if p, ok := props[k]; ok {
				unknownProperties(p, v[k], path+"."+k, out, depth+1)
			} else if open {
				unknownProperties(additional, v[k], path+"."+k, out, depth+1)
			} else {
				*out = append(*out, path+"."+k)
			}
		}
	case []any:
		items := s.Items
		if items == nil {
			for _, part := range s.AllOf {
				if part != nil && part.Value != nil && part.Value.Items != nil {
					items = part.Value.Items
				}
			}
		}
		if items == nil || items.Value == nil {
			return
		}
		for i, e := range v {
			unknownProperties(items.Value, e, fmt.Sprintf("%s[%d]", path, i), out, depth+1)
		}
	}
}
