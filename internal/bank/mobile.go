package bank

// The bank's mobile app in production.
//
// The webhook. Every pending mobile-app challenge — a decoupled
// authorization (authorizeExt), or a consent page or internet-banking page
// where the customer chose the mobile app — is POSTed to the mobile-app
// backend's WebhookURL, once, as soon as it is made (and, after a failure,
// again with backoff while the challenge is pending):
//
//	POST {WebhookURL}
//	Content-Type: application/json
//	X-JWS-SIGNATURE: <detached JWS of the body, signed with the bank's QSealC (x5c in the header)>
//
//	{"type":"sca.mobile.challenge","challengeId":"…","login":"…",
//	 "kind":"decoupled"|"consent"|"ib","text":"Zgoda dla Demo TPP: ais",
//	 "createdAt":"2026-12-04T10:00:00Z","expiresAt":"2026-12-04T10:05:00Z",
//	 "decisionUrl":"https://bank.example/mobile/decision"}
//
// A 2xx answer means the backend has it (it pushes it to the customer's
// phone); anything else is retried (2 s, doubling, up to 6 attempts) while
// the challenge is pending. Delivery is at least once: challengeId
// identifies a repeat. The backend verifies the signature with the bank's
// seal certificate.
//
// The decision. The backend answers with the customer's decision:
//
//	POST /mobile/decision            (on the web listener)
//	Content-Type: application/json
//	X-Psd2bank-Mobile-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
//	{"challengeId":"…","decision":"approve"|"reject"}
//
// The shared secret is MobileConfig.Secret (serve: --mobile-secret-file). The
// signature must be fresh (within 5 minutes of the bank's clock). Answers:
// 200 {"challengeId","status"} once decided; 400 a malformed body; 401 a
// missing, wrong or stale signature; 404 no such mobile-app challenge; 409 it
// was already decided or has expired. A decoupled authorization is then
// completed and its result delivered to the TPP's callback.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/store"
)

// MobileDecisionPath is where the mobile-app backend posts decisions.
const MobileDecisionPath = "/mobile/decision"

// MobileSignatureHeader carries the HMAC of a decision.
const MobileSignatureHeader = "X-Psd2bank-Mobile-Signature"

// MobileConfig is the bank's mobile-app backend.
type MobileConfig struct {
	// WebhookURL receives the pending challenges.
	WebhookURL string
	// Secret authenticates the backend's decisions (at least 32 bytes).
	Secret []byte
	// Client calls the webhook; nil: a client with a 10 s timeout.
	Client *http.Client
	// MaxAttempts bounds the deliveries of one challenge (default 6).
	MaxAttempts int
}

// mobileWebhook delivers the webhook and serves the decisions.
type mobileWebhook struct {
	b      *Bank
	cfg    MobileConfig
	client *http.Client
	kickCh chan struct{}
}

func newMobileWebhook(b *Bank, cfg MobileConfig) (*mobileWebhook, error) {
	if len(cfg.Secret) < 32 {
		return nil, errors.New("the mobile-app backend's secret must be at least 32 bytes")
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 6
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &mobileWebhook{b: b, cfg: cfg, client: client, kickCh: make(chan struct{}, 1)}, nil
}

func (m *mobileWebhook) kick() {
	select {
	case m.kickCh <- struct{}{}:
	default:
	}
}

// loop delivers the webhook when kicked and every second, until ctx ends.
func (m *mobileWebhook) loop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.kickCh:
		}
		if err := m.run(ctx); err != nil && ctx.Err() == nil {
			m.b.log.Error("mobile-app webhook", "err", err)
		}
	}
}

// mobileNotice is the webhook's body.
type mobileNotice struct {
	Type        string `json:"type"`
	ChallengeID string `json:"challengeId"`
	Login       string `json:"login"`
	Kind        string `json:"kind"`
	Text        string `json:"text"`
	CreatedAt   string `json:"createdAt"`
	ExpiresAt   string `json:"expiresAt"`
	DecisionURL string `json:"decisionUrl"`
}

// run delivers the webhook of every pending challenge that is due: never
// delivered, not given up, and not leased by another node.
func (m *mobileWebhook) run(ctx context.Context) error {
	pending, err := m.b.SCA.PendingMobile(ctx, 100)
	if err != nil {
		return err
	}
	for _, c := range pending {
		ok, attempt, err := m.claim(ctx, c.ID)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		derr := m.deliver(ctx, c)
		if err := m.record(ctx, c, attempt, derr); err != nil {
			return err
		}
	}
	return nil
}

// claim takes the challenge's delivery for 30 s (a lease: another node
// skips it meanwhile) and counts the attempt; false when it is delivered,
// given up, or not due.
func (m *mobileWebhook) claim(ctx context.Context, id string) (bool, int, error) {
	now := m.b.Clock.Now().UnixMicro()
	lease := m.b.Clock.Now().Add(30 * time.Second).UnixMicro()
	var attempts int
	err := m.b.DB.InTx(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO mobile_notifications (challenge_id, attempts, next_attempt_at)
			VALUES ($1, 1, $2)
			ON CONFLICT (challenge_id) DO UPDATE SET attempts = mobile_notifications.attempts + 1, next_attempt_at = $2
			WHERE mobile_notifications.delivered_at IS NULL AND mobile_notifications.failed_at IS NULL
			AND mobile_notifications.next_attempt_at <= $3
			RETURNING attempts`, id, lease, now).Scan(&attempts)
	})
	if errors.Is(err, errNoRows) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("claim the webhook of a challenge: %w", err)
	}
	return true, attempts, nil
}

// record writes the outcome of an attempt: delivered, or the next attempt,
// or given up after the last.
func (m *mobileWebhook) record(ctx context.Context, c sca.Challenge, attempt int, derr error) error {
	now := m.b.Clock.Now()
	var err error
	switch {
	case derr == nil:
		_, err = m.b.DB.ExecContext(ctx, `UPDATE mobile_notifications SET delivered_at = $2, last_error = '' WHERE challenge_id = $1`,
			c.ID, now.UnixMicro())
	case attempt >= m.cfg.MaxAttempts:
		m.b.log.Error("mobile-app webhook given up", "challenge", c.ID, "attempts", attempt, "err", derr)
		_, err = m.b.DB.ExecContext(ctx, `UPDATE mobile_notifications SET failed_at = $2, last_error = $3 WHERE challenge_id = $1`,
			c.ID, now.UnixMicro(), derr.Error())
	default:
		m.b.log.Warn("mobile-app webhook failed, retrying", "challenge", c.ID, "attempt", attempt, "err", derr)
		next := now.Add(2 * time.Second << (attempt - 1))
		_, err = m.b.DB.ExecContext(ctx, `UPDATE mobile_notifications SET next_attempt_at = $2, last_error = $3 WHERE challenge_id = $1`,
			c.ID, next.UnixMicro(), derr.Error())
	}
	return err
}

// deliver POSTs one challenge's notice, signed with the bank's seal.
func (m *mobileWebhook) deliver(ctx context.Context, c sca.Challenge) error {
	kind, _, _ := strings.Cut(c.Purpose, ":")
	body, err := json.Marshal(mobileNotice{Type: "sca.mobile.challenge", ChallengeID: c.ID, Login: c.Login, Kind: kind,
		Text: c.Text, CreatedAt: c.CreatedAt.UTC().Format(time.RFC3339), ExpiresAt: c.ExpiresAt.UTC().Format(time.RFC3339),
		DecisionURL: strings.TrimRight(m.b.cfg.WebURL(), "/") + MobileDecisionPath})
	if err != nil {
		return err
	}
	sig, err := m.b.cfg.Seal.SignDetached(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.cfg.WebhookURL, strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-JWS-SIGNATURE", sig)
	resp, err := m.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return errors.New("the mobile-app backend answered " + resp.Status)
	}
	return nil
}

// maxDecisionAge bounds how old a signed decision may be.
const maxDecisionAge = 5 * time.Minute

// decision serves POST /mobile/decision.
func (m *mobileWebhook) decision(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4096))
	if err != nil {
		writeDecisionError(w, http.StatusBadRequest, "invalid", "the body must be at most 4096 bytes of JSON")
		return
	}
	if err := m.verify(r.Header.Get(MobileSignatureHeader), body); err != nil {
		m.b.log.Warn("mobile decision refused", "err", err)
		writeDecisionError(w, http.StatusUnauthorized, "unauthenticated", err.Error())
		return
	}
	var d struct {
		ChallengeID string `json:"challengeId"`
		Decision    string `json:"decision"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil || d.ChallengeID == "" || (d.Decision != "approve" && d.Decision != "reject") {
		writeDecisionError(w, http.StatusBadRequest, "invalid",
			`the body must be {"challengeId": "…", "decision": "approve"} or "reject"`)
		return
	}
	c, err := m.b.SCA.DecideChallenge(r.Context(), d.ChallengeID, d.Decision == "approve")
	if err != nil {
		status := http.StatusInternalServerError
		switch sca.CodeOf(err) {
		case sca.CodeNotFound:
			status = http.StatusNotFound
		case sca.CodeUsed, sca.CodeExpired:
			status = http.StatusConflict
		}
		msg := "internal error"
		if status != http.StatusInternalServerError {
			msg = err.Error()
		} else {
			m.b.log.Error("mobile decision", "err", err)
		}
		writeDecisionError(w, status, sca.CodeOf(err).Name(), msg)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"challengeId": c.ID, "status": string(c.Status)})
}

// verify checks "t=<unix>,v1=<hex>" against the body.
func (m *mobileWebhook) verify(header string, body []byte) error {
	var ts, mac string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			mac = v
		}
	}
	if ts == "" || mac == "" {
		return fmt.Errorf("the header %s must be t=<unix seconds>,v1=<hex HMAC-SHA256>", MobileSignatureHeader)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%s: t=%q is not a number of seconds", MobileSignatureHeader, ts)
	}
	got, err := hex.DecodeString(mac)
	if err != nil || !hmac.Equal(got, MobileSignature(m.cfg.Secret, ts, body)) {
		return errors.New("the signature does not match the body")
	}
	if age := m.b.Clock.Now().Sub(time.Unix(sec, 0)); age > maxDecisionAge || age < -maxDecisionAge {
		return fmt.Errorf("the signature's time t=%s is more than 5 minutes from the bank's clock", ts)
	}
	return nil
}

// MobileSignature is the HMAC-SHA256 of "<t>.<body>" under secret.
func MobileSignature(secret []byte, t string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(t + "."))
	h.Write(body)
	return h.Sum(nil)
}

func writeDecisionError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": msg, "code": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
