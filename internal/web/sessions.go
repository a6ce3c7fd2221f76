package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/store"
)

// A session realm: who the subject of a session is.
type realm struct {
	name   string        // stored in web_sessions.realm
	cookie string        // the cookie's name
	path   string        // the cookie's path
	ttl    time.Duration // how long a session lasts
}

var (
	developerRealm  = realm{name: "developer", cookie: "psd2bank_developer", path: "/developer", ttl: 12 * time.Hour}
	backofficeRealm = realm{name: "backoffice", cookie: "psd2bank_backoffice", path: "/backoffice", ttl: 8 * time.Hour}
)

// sessions keeps web sessions in the database, so that every node of a
// cluster agrees on them. The cookie holds a random token; the table holds
// only its SHA-256.
type sessions struct {
	db    store.Querier
	clock clock.Clock
}

func tokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// start creates a session for subject and sets its cookie.
func (s *sessions) start(ctx context.Context, w http.ResponseWriter, r *http.Request, rl realm, subject string) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.clock.Now()
	// Expired sessions are swept by whoever logs in next.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM web_sessions WHERE expires_at < $1`, now.UnixMicro()); err != nil {
		return fmt.Errorf("sweep sessions: %w", err)
	}
	if _, err := s.db.ExecContext(ctx,
		`INSERT INTO web_sessions (id, realm, subject, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		tokenID(token), rl.name, subject, now.UnixMicro(), now.Add(rl.ttl).UnixMicro()); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: rl.cookie, Value: token, Path: rl.path, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: secureRequest(r), MaxAge: int(rl.ttl.Seconds())})
	return nil
}

// subject returns the subject of the request's session in the realm, or ""
// when there is no valid session.
func (s *sessions) subject(ctx context.Context, r *http.Request, rl realm) (string, error) {
	c, err := r.Cookie(rl.cookie)
	if err != nil || c.Value == "" {
		return "", nil
	}
	var subject string
	err = s.db.QueryRowContext(ctx, `SELECT subject FROM web_sessions WHERE id = $1 AND realm = $2 AND expires_at > $3`,
		tokenID(c.Value), rl.name, s.clock.Now().UnixMicro()).Scan(&subject)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read session: %w", err)
	}
	return subject, nil
}

// end deletes the request's session in the realm and its cookie.
func (s *sessions) end(ctx context.Context, w http.ResponseWriter, r *http.Request, rl realm) error {
	if c, err := r.Cookie(rl.cookie); err == nil && c.Value != "" {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM web_sessions WHERE id = $1`, tokenID(c.Value)); err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: rl.cookie, Value: "", Path: rl.path, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: secureRequest(r), MaxAge: -1})
	return nil
}
