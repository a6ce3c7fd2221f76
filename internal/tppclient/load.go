package tppclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/dialect/berlingroup"
	"github.com/psd2bank/psd2bank/internal/jws"
)

// SignedPolishAPI builds a PolishAPI request (POST) as PolishAPI sends it —
// a fresh requestHeader (plus header's fields), the access token when set,
// the TPP's detached JWS over the exact body — without sending it: for
// load tests, which send many and time only the sending.
func (c *Client) SignedPolishAPI(ctx context.Context, path string, body map[string]any, token string, header map[string]any) (*http.Request, error) {
	id := uuid.Must(uuid.NewUUID()).String()
	raw, err := polishBody(body, c.Identity.TPPID, token, header, id, c.now().UTC().Format(sendDateLayout))
	if err != nil {
		return nil, err
	}
	return c.signedRequest(ctx, path, raw, id, token)
}

// sendDateLayout is requestHeader.sendDate's form.
const sendDateLayout = "2006-01-02T15:04:05.000Z"

// polishBody is body with its requestHeader.
func polishBody(body map[string]any, tppID, token string, header map[string]any, id, sendDate string) ([]byte, error) {
	withHeader := make(map[string]any, len(body)+1)
	for k, v := range body {
		withHeader[k] = v
	}
	rh := map[string]any{"requestId": id, "tppId": tppID, "sendDate": sendDate}
	if token != "" {
		rh["token"] = token
	}
	for k, v := range header {
		rh[k] = v
	}
	withHeader["requestHeader"] = rh
	return json.Marshal(withHeader)
}

// signedRequest is the POST of raw to path, signed.
func (c *Client) signedRequest(ctx context.Context, path string, raw []byte, id, token string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.API+path, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	sig, err := c.signer.SignDetached(raw)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-JWS-SIGNATURE", sig)
	req.Header.Set("X-REQUEST-ID", id)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

// SignedPolishAPIs makes the requests SignedPolishAPI makes, one a call,
// for a load test that sends many of one kind: the body is encoded once,
// and each request gets only its own request id and send date written
// into a copy, and its own signature — the bench client's work a request
// is then mostly the signature, as a TPP's would be.
func (c *Client) SignedPolishAPIs(ctx context.Context, path string, body map[string]any, token string, header map[string]any) (func() (*http.Request, error), error) {
	const idMark, dateMark = "00000000-0000-0000-0000-000000000000", "0000-00-00T00:00:00.000Z"
	tpl, err := polishBody(body, c.Identity.TPPID, token, header, idMark, dateMark)
	if err != nil {
		return nil, err
	}
	idAt, dateAt := bytes.Index(tpl, []byte(`"`+idMark+`"`))+1, bytes.Index(tpl, []byte(`"`+dateMark+`"`))+1
	if idAt == 0 || dateAt == 0 || bytes.Count(tpl, []byte(idMark)) != 1 || bytes.Count(tpl, []byte(dateMark)) != 1 {
		return func() (*http.Request, error) { return c.SignedPolishAPI(ctx, path, body, token, header) }, nil
	}
	return func() (*http.Request, error) {
		id := uuid.Must(uuid.NewUUID()).String()
		raw := bytes.Clone(tpl)
		copy(raw[idAt:], id)
		copy(raw[dateAt:], c.now().UTC().Format(sendDateLayout))
		return c.signedRequest(ctx, path, raw, id, token)
	}, nil
}

// Send sends a request built by SignedPolishAPI and returns the answer's
// body and headers: an error unless the status is 2xx and the answer
// carries the bank's seal.
func (c *Client) Send(req *http.Request) ([]byte, http.Header, error) {
	res, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode/100 != 2 {
		return data, res.Header, fmt.Errorf("%s: %.300s", res.Status, data)
	}
	if len(data) > 0 {
		if _, err := jws.VerifyDetached(res.Header.Get("X-JWS-SIGNATURE"), data, c.bankSeal); err != nil {
			return data, res.Header, fmt.Errorf("the bank's answer is not signed with its seal: %w", err)
		}
	}
	return data, res.Header, nil
}

// HTTPClient is a new HTTP client with the TPP's TLS (its QWAC, the
// bank's CA) and a transport of its own, so its connections are its own.
func (c *Client) HTTPClient() *http.Client {
	tr := c.http.Transport.(*http.Transport)
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tr.TLSClientConfig.Clone()}}
}

// SignedBerlinGroup builds a Berlin Group request without a body as
// BerlinGroup sends it — a fresh X-Request-ID, the Date, header's fields,
// the TPP's HTTP signature — without sending it: for load tests.
func (c *Client) SignedBerlinGroup(ctx context.Context, method, path string, header map[string]string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.API+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Request-ID", uuid.NewString())
	req.Header.Set("Date", c.now().UTC().Format(http.TimeFormat))
	req.Header.Set("Accept", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if err := berlingroup.SignRequest(req, nil, c.signer.Key(), c.signer.Certificate()); err != nil {
		return nil, fmt.Errorf("sign the request: %w", err)
	}
	return req, nil
}

// SendBerlinGroup sends a request built by SignedBerlinGroup and returns
// the answer's body and headers: an error unless the status is 2xx and the
// answer carries the bank's seal.
func (c *Client) SendBerlinGroup(req *http.Request) ([]byte, http.Header, error) {
	res, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode/100 != 2 {
		return data, res.Header, fmt.Errorf("%s: %.300s", res.Status, data)
	}
	if err := berlingroup.VerifyResponse(res.Header, data, c.bankSeal); err != nil {
		return data, res.Header, fmt.Errorf("the bank's answer is not signed with its seal: %w", err)
	}
	return data, res.Header, nil
}
