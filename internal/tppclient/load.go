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

	"github.com/psd2bank/psd2bank/internal/jws"
)

// SignedPolishAPI builds a PolishAPI request (POST) as PolishAPI sends it —
// a fresh requestHeader (plus header's fields), the access token when set,
// the TPP's detached JWS over the exact body — without sending it: for
// load tests, which send many and time only the sending.
func (c *Client) SignedPolishAPI(ctx context.Context, path string, body map[string]any, token string, header map[string]any) (*http.Request, error) {
	id := uuid.Must(uuid.NewUUID()).String()
	withHeader := make(map[string]any, len(body)+1)
	for k, v := range body {
		withHeader[k] = v
	}
	rh := map[string]any{"requestId": id, "tppId": c.Identity.TPPID, "sendDate": c.now().UTC().Format("2006-01-02T15:04:05.000Z")}
	if token != "" {
		rh["token"] = token
	}
	for k, v := range header {
		rh[k] = v
	}
	withHeader["requestHeader"] = rh
	raw, err := json.Marshal(withHeader)
	if err != nil {
		return nil, err
	}
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
