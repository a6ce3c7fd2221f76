package sandbox

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/sca"
)

// smsOutboxLimit bounds GET /sandbox/sms.
const smsOutboxLimit = 50

// scaTools serves the sandbox's SCA tools (never mount it in
// production):
//
//	GET  /sandbox/sms?login=LOGIN       the SMS messages sent to LOGIN, newest first:
//	                                    [{"sent_at","text","code"}]
//	POST /sandbox/mobile/approve        body {"login"} approves LOGIN's pending mobile-app
//	                                    challenge, {"login","reject":true} rejects it;
//	                                    answers the decided challenge
//
// Refusals are JSON {"error": message, "code": code}: 400 for bad input, 404
// for an unknown login, 409 when nothing is pending.
func scaTools(s *sca.Service) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sandbox/sms", func(w http.ResponseWriter, r *http.Request) { sandboxSMS(s, w, r) })
	mux.HandleFunc("POST /sandbox/mobile/approve", func(w http.ResponseWriter, r *http.Request) { sandboxApprove(s, w, r) })
	return mux
}

func sandboxSMS(s *sca.Service, w http.ResponseWriter, r *http.Request) {
	login := r.URL.Query().Get("login")
	if login == "" {
		writeJSONError(w, http.StatusBadRequest, "invalid", "the query parameter login is required: /sandbox/sms?login=LOGIN")
		return
	}
	if _, err := s.Customer(r.Context(), login); err != nil {
		writeSCAError(w, err)
		return
	}
	msgs, err := s.SMSOutbox(r.Context(), login, smsOutboxLimit)
	if err != nil {
		writeSCAError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, msgs)
}

// challengeJSON is a challenge as the sandbox shows it.
type challengeJSON struct {
	ID        string     `json:"id"`
	Login     string     `json:"login"`
	Method    sca.Method `json:"method"`
	Status    sca.Status `json:"status"`
	Purpose   string     `json:"purpose"`
	Text      string     `json:"text"`
	CreatedAt string     `json:"created_at"`
	ExpiresAt string     `json:"expires_at"`
	DecidedAt string     `json:"decided_at,omitempty"`
}

func sandboxApprove(s *sca.Service, w http.ResponseWriter, r *http.Request) {
	var body struct {
		Login  string `json:"login"`
		Reject bool   `json:"reject"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid", `the body must be JSON {"login": "..."} or {"login": "...", "reject": true}: `+err.Error())
		return
	}
	if body.Login == "" {
		writeJSONError(w, http.StatusBadRequest, "invalid", `the body must name the customer: {"login": "..."}`)
		return
	}
	c, err := s.DecideMobile(r.Context(), body.Login, !body.Reject)
	if err != nil {
		writeSCAError(w, err)
		return
	}
	out := challengeJSON{ID: c.ID, Login: c.Login, Method: c.Method, Status: c.Status, Purpose: c.Purpose, Text: c.Text,
		CreatedAt: c.CreatedAt.Format(time.RFC3339), ExpiresAt: c.ExpiresAt.Format(time.RFC3339)}
	if !c.DecidedAt.IsZero() {
		out.DecidedAt = c.DecidedAt.Format(time.RFC3339)
	}
	writeJSON(w, http.StatusOK, out)
}

// scaStatuses is the HTTP status of each SCA refusal the tools answer;
// any other sca code is 422.
var scaStatuses = map[fault.Code]int{
	sca.CodeUnknownLogin:   http.StatusNotFound,
	sca.CodeNotFound:       http.StatusNotFound,
	sca.CodeNothingPending: http.StatusConflict,
	sca.CodeUsed:           http.StatusConflict,
	sca.CodeExpired:        http.StatusConflict,
	sca.CodeInvalid:        http.StatusBadRequest,
}

func writeSCAError(w http.ResponseWriter, err error) {
	e := fault.Find(err, "sca")
	if e == nil {
		writeJSONError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	status, ok := scaStatuses[e.Code]
	if !ok {
		status = http.StatusUnprocessableEntity
	}
	writeJSONError(w, status, e.Code.Name(), e.Message)
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": msg, "code": code})
}
