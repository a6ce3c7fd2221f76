package berlingroup

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// AccountReference names an account; this bank knows IBANs (Polish ones).
type AccountReference struct {
	IBAN      string `json:"iban,omitempty"`
	BBAN      string `json:"bban,omitempty"`
	PAN       string `json:"pan,omitempty"`
	MaskedPAN string `json:"maskedPan,omitempty"`
	MSISDN    string `json:"msisdn,omitempty"`
	Currency  string `json:"currency,omitempty"`
}

// AccountAccess is a consent's access object.
type AccountAccess struct {
	Accounts                     []AccountReference `json:"accounts,omitempty"`
	Balances                     []AccountReference `json:"balances,omitempty"`
	Transactions                 []AccountReference `json:"transactions,omitempty"`
	AdditionalInformation        json.RawMessage    `json:"additionalInformation,omitempty"`
	AvailableAccounts            string             `json:"availableAccounts,omitempty"`
	AvailableAccountsWithBalance string             `json:"availableAccountsWithBalance,omitempty"`
	AllPsd2                      string             `json:"allPsd2,omitempty"`
	RestrictedTo                 []string           `json:"restrictedTo,omitempty"`
}

// ConsentRequest is the body of POST /v1/consents.
type ConsentRequest struct {
	Access                   *AccountAccess `json:"access"`
	RecurringIndicator       *bool          `json:"recurringIndicator"`
	ValidUntil               string         `json:"validUntil"`
	FrequencyPerDay          *int           `json:"frequencyPerDay"`
	CombinedServiceIndicator *bool          `json:"combinedServiceIndicator"`
}

// ConsentCreated answers POST /v1/consents.
type ConsentCreated struct {
	ConsentStatus string          `json:"consentStatus"`
	ConsentID     string          `json:"consentId"`
	Links         map[string]link `json:"_links"`
	PSUMessage    string          `json:"psuMessage,omitempty"`
}

// ConsentInformation answers GET /v1/consents/{consentId}.
type ConsentInformation struct {
	Access             AccountAccess   `json:"access"`
	RecurringIndicator bool            `json:"recurringIndicator"`
	ValidUntil         string          `json:"validUntil"`
	FrequencyPerDay    int             `json:"frequencyPerDay"`
	LastActionDate     string          `json:"lastActionDate"`
	ConsentStatus      string          `json:"consentStatus"`
	Links              map[string]link `json:"_links,omitempty"`
}

// Consent kinds (berlingroup_consents.kind).
const (
	kindExplicit        = "explicit"
	kindBankOffered     = "bankOffered"
	kindAllPsd2         = "allPsd2"
	kindAvailable       = "availableAccounts"
	kindAvailableWithBa = "availableAccountsWithBalance"
)

// historyDays is how far back transactions reach under a consent.
const historyDays = 730

// maxValidity is the longest validUntil: the 180 days of RTS art. 10a.
const maxValidity = 180

// bgConsent is the dialect's record of a consent.
type bgConsent struct {
	ConsentID, TPPID, RequestID, Kind string
	Access                            AccountAccess
	Balances, Transactions            []string
	Recurring                         bool
	FrequencyPerDay                   int
	ValidUntil, SCAApproach           string
	// AwaitingStart: the TPP starts the authorisation explicitly and has
	// not yet (TPP-Explicit-Authorisation-Preferred).
	AwaitingStart bool
	CreatedAt     time.Time
}

func (s *service) createConsent(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req ConsentRequest
	if err := decodeStrict(c.Body, &req, "consent request"); err != nil {
		return err
	}
	switch {
	case req.Access == nil:
		return formatError("access is required: name the accounts, or use availableAccounts, allPsd2 or empty lists (the customer chooses)",
			"access jest wymagane: wskaż rachunki albo użyj availableAccounts, allPsd2 lub pustych list (wybiera klient)")
	case req.RecurringIndicator == nil:
		return formatError("recurringIndicator is required (true or false)", "recurringIndicator jest wymagane (true lub false)")
	case req.FrequencyPerDay == nil:
		return formatError("frequencyPerDay is required (1 to 4)", "frequencyPerDay jest wymagane (od 1 do 4)")
	case req.CombinedServiceIndicator == nil:
		return formatError("combinedServiceIndicator is required (false: this bank offers no combined sessions)",
			"combinedServiceIndicator jest wymagane (false: bank nie oferuje sesji łączonych)")
	case *req.CombinedServiceIndicator:
		return refuse(http.StatusBadRequest, CodeParameterNotSupport,
			"combinedServiceIndicator true is not supported: ask for AIS and PIS in separate consents",
			"combinedServiceIndicator true nie jest obsługiwane: o AIS i PIS proś w osobnych zgodach")
	case *req.FrequencyPerDay < 1 || *req.FrequencyPerDay > consent.UnattendedLimit:
		return formatError(fmt.Sprintf("frequencyPerDay must be 1 to %d (reads without the customer per day, RTS art. 36)", consent.UnattendedLimit),
			fmt.Sprintf("frequencyPerDay musi wynosić od 1 do %d (odczyty bez udziału klienta na dobę, RTS art. 36)", consent.UnattendedLimit),
			"got ", *req.FrequencyPerDay)
	case !*req.RecurringIndicator && *req.FrequencyPerDay != 1:
		return formatError("a one-off consent (recurringIndicator false) has frequencyPerDay 1",
			"zgoda jednorazowa (recurringIndicator false) ma frequencyPerDay 1")
	}
	now := s.now()
	today := ledger.DateOf(now)
	until, err := time.Parse(time.DateOnly, req.ValidUntil)
	if err != nil {
		return formatError("validUntil must be a date YYYY-MM-DD", "validUntil musi być datą RRRR-MM-DD", "got ", req.ValidUntil)
	}
	if req.ValidUntil < today {
		return formatError("validUntil "+req.ValidUntil+" is in the past: give today or a later date",
			"validUntil "+req.ValidUntil+" jest w przeszłości: podaj dzisiejszą lub późniejszą datę")
	}
	if latest, _ := time.Parse(time.DateOnly, today); until.After(latest.AddDate(0, 0, maxValidity)) {
		until = latest.AddDate(0, 0, maxValidity) // the bank shortens it, as the standard allows
	}
	rec := bgConsent{TPPID: c.OrgID, Access: *req.Access, Recurring: *req.RecurringIndicator,
		FrequencyPerDay: *req.FrequencyPerDay, ValidUntil: until.Format(time.DateOnly), CreatedAt: now}
	scope, privs, err := s.translateAccess(&rec)
	if err != nil {
		return err
	}

	// The authorisation: redirect to the consent pages, or decoupled.
	sca, err := s.approach(ctx, r, c)
	if err != nil {
		return err
	}
	decoupled, psuID, redirect, client := sca.decoupled, sca.psuID, sca.redirect, sca.client
	rec.SCAApproach = approachOf(sca)
	rec.AwaitingStart = explicitStart(r)
	ar := oauth.AuthorizeRequest{
		Dialect: oauth.DialectBerlinGroup, TPPID: c.OrgID, ClientID: client.ClientID, RedirectURI: redirect, RedirectPrefix: true,
		ResponseType: "code", Scope: string(scope), State: c.RequestID, QWACThumbprint: c.QWACInfo.FingerprintS256,
		ScopeDetails: oauth.ScopeDetails{ConsentID: c.RequestID, ScopeTimeLimit: endOfDay(until), Privileges: privs,
			FrequencyPerDay: rec.FrequencyPerDay, OneOff: !rec.Recurring},
		Decoupled: decoupled, PSULogin: psuID, Polled: true,
	}
	res, err := s.d.OAuth.Authorize(ctx, ar)
	if err != nil {
		return authorizeRefusal(err)
	}
	rec.ConsentID, rec.RequestID = res.ConsentID, res.RequestID
	if err := s.saveConsent(ctx, rec); err != nil {
		return err
	}
	if err := s.setNok(ctx, sca, res.RequestID); err != nil {
		return err
	}
	self := Prefix + "/v1/consents/" + res.ConsentID
	out := ConsentCreated{ConsentStatus: "received", ConsentID: res.ConsentID, Links: map[string]link{
		"self": {self}, "status": {self + "/status"},
	}}
	switch {
	case rec.AwaitingStart:
		out.Links["startAuthorisation"] = link{self + "/authorisations"}
	case decoupled:
		if s.d.OnDecoupled != nil {
			if err := s.d.OnDecoupled(ctx, res, psuID); err != nil {
				return err
			}
		}
		out.Links["scaStatus"] = link{self + "/authorisations/" + res.RequestID}
		out.PSUMessage = "Please approve the consent in the bank's mobile app."
	default:
		out.Links["scaStatus"] = link{self + "/authorisations/" + res.RequestID}
		out.Links["scaRedirect"] = link{res.RedirectURI}
	}
	w.Header().Set("Location", self)
	w.Header().Set("ASPSP-SCA-Approach", rec.SCAApproach)
	return writeJSON(w, http.StatusCreated, out)
}

// endOfDay is the last instant of a date in Warsaw.
func endOfDay(d time.Time) time.Time {
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		loc = time.UTC
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, loc)
}

// translateAccess turns the access object into the domain's scope and
// privileges, recording the kind and which accounts give balances and
// transactions.
func (s *service) translateAccess(rec *bgConsent) (consent.Scope, []consent.Privilege, error) {
	a := rec.Access
	kinds := 0
	for _, v := range []string{a.AvailableAccounts, a.AvailableAccountsWithBalance, a.AllPsd2} {
		if v != "" {
			kinds++
			if v != "allAccounts" && v != "allAccountsWithOwnerName" {
				return "", nil, formatError("availableAccounts, availableAccountsWithBalance and allPsd2 take allAccounts or allAccountsWithOwnerName",
					"availableAccounts, availableAccountsWithBalance i allPsd2 przyjmują allAccounts lub allAccountsWithOwnerName", "got ", v)
			}
		}
	}
	lists := len(a.Accounts) + len(a.Balances) + len(a.Transactions)
	empty := a.Accounts != nil || a.Balances != nil || a.Transactions != nil
	switch {
	case kinds > 1 || kinds == 1 && empty:
		return "", nil, formatError("access names more than one kind of consent: use account lists, availableAccounts, availableAccountsWithBalance or allPsd2, one of them",
			"access łączy kilka rodzajów zgody: użyj list rachunków, availableAccounts, availableAccountsWithBalance lub allPsd2 — jednego z nich")
	case len(a.RestrictedTo) > 0:
		return "", nil, refuse(http.StatusBadRequest, CodeParameterNotSupport, "restrictedTo is not supported: this bank has no card accounts",
			"restrictedTo nie jest obsługiwane: bank nie prowadzi rachunków kart")
	case len(a.AdditionalInformation) > 0 && string(a.AdditionalInformation) != "null":
		return "", nil, refuse(http.StatusBadRequest, CodeParameterNotSupport, "additionalInformation (ownerName, trustedBeneficiaries) is not offered",
			"additionalInformation (ownerName, trustedBeneficiaries) nie jest oferowane")
	}
	multiple := func(name, account string, history int) consent.Privilege {
		return consent.Privilege{Name: name, AccountNumber: account, ScopeUsageLimit: consent.UsageMultiple, MaxAllowedHistoryLong: history}
	}
	full := func(account string, tx bool) []consent.Privilege {
		p := []consent.Privilege{multiple(consent.PrivGetAccount, account, 0)}
		if tx {
			p = append(p, multiple(consent.PrivGetTransactionsDone, account, historyDays),
				multiple(consent.PrivGetTransactionsPending, account, historyDays),
				multiple(consent.PrivGetTransactionDetail, account, 0))
		}
		return p
	}
	switch {
	case a.AvailableAccounts != "":
		rec.Kind = kindAvailable
		return consent.ScopeAISAccounts, []consent.Privilege{multiple(consent.PrivGetAccounts, "", 0)}, nil
	case a.AvailableAccountsWithBalance != "":
		rec.Kind = kindAvailableWithBa
		return consent.ScopeAISAccounts, []consent.Privilege{multiple(consent.PrivGetAccounts, "", 0)}, nil
	case a.AllPsd2 != "":
		rec.Kind = kindAllPsd2
		return consent.ScopeAIS, full("", true), nil
	case lists == 0 && empty:
		rec.Kind = kindBankOffered
		return consent.ScopeAIS, full("", true), nil
	case lists == 0:
		return "", nil, formatError("access is empty: name accounts, balances or transactions by IBAN, or send empty lists for the customer to choose",
			"access jest puste: wskaż rachunki (accounts, balances, transactions) po IBAN albo wyślij puste listy, by wybrał klient")
	}
	rec.Kind = kindExplicit
	var order []string
	tx := map[string]bool{}
	read := func(field string, refs []AccountReference) error {
		for i, ref := range refs {
			if ref.IBAN == "" {
				return formatError(fmt.Sprintf("access.%s[%d]: name the account by iban (this bank has no card accounts, BBAN or MSISDN references)", field, i),
					fmt.Sprintf("access.%s[%d]: wskaż rachunek przez iban (bank nie obsługuje odwołań przez kartę, BBAN ani MSISDN)", field, i))
			}
			nrb, ok := nrbOf(ref.IBAN)
			if !ok {
				return formatError(fmt.Sprintf("access.%s[%d].iban is not a valid Polish IBAN (PL and 26 digits)", field, i),
					fmt.Sprintf("access.%s[%d].iban nie jest poprawnym polskim IBAN (PL i 26 cyfr)", field, i))
			}
			if !slices.Contains(order, nrb) {
				order = append(order, nrb)
			}
			switch field {
			case "balances":
				if !slices.Contains(rec.Balances, nrb) {
					rec.Balances = append(rec.Balances, nrb)
				}
			case "transactions":
				if !slices.Contains(rec.Transactions, nrb) {
					rec.Transactions = append(rec.Transactions, nrb)
				}
				tx[nrb] = true
			}
		}
		return nil
	}
	for _, l := range []struct {
		name string
		refs []AccountReference
	}{{"accounts", a.Accounts}, {"balances", a.Balances}, {"transactions", a.Transactions}} {
		if err := read(l.name, l.refs); err != nil {
			return "", nil, err
		}
	}
	var privs []consent.Privilege
	for _, nrb := range order {
		privs = append(privs, full(nrb, tx[nrb])...)
	}
	return consent.ScopeAIS, privs, nil
}

// scaRequest is how the customer will authorise: the approach and where
// the browser returns.
type scaRequest struct {
	decoupled            bool
	psuID, redirect, nok string
	client               tpp.Client
}

// approach reads TPP-Redirect-Preferred, PSU-ID, TPP-Redirect-URI and
// TPP-Nok-Redirect-URI: decoupled needs the customer's login; a redirect
// needs a redirect URI that begins with a registered one (the Nok URI too).
func (s *service) approach(ctx context.Context, r *http.Request, c *gateway.Caller) (scaRequest, error) {
	q := scaRequest{decoupled: strings.EqualFold(r.Header.Get("TPP-Redirect-Preferred"), "false"),
		psuID: r.Header.Get("PSU-ID"), redirect: r.Header.Get("TPP-Redirect-URI"), nok: r.Header.Get("TPP-Nok-Redirect-URI")}
	if q.decoupled && q.psuID == "" {
		return q, formatError("decoupled SCA (TPP-Redirect-Preferred: false) needs PSU-ID: the customer's login",
			"SCA odseparowane (TPP-Redirect-Preferred: false) wymaga PSU-ID: loginu klienta")
	}
	if !q.decoupled && q.redirect == "" {
		return q, formatError("TPP-Redirect-URI is required for the redirect approach: the address the customer returns to",
			"TPP-Redirect-URI jest wymagany przy podejściu z przekierowaniem: adres, na który wraca klient")
	}
	var err error
	if q.client, err = s.client(ctx, c.OrgID, q.redirect, q.decoupled); err != nil {
		return q, err
	}
	if q.redirect == "" {
		q.redirect = q.client.RedirectURIs[0]
	}
	if q.nok != "" && !q.decoupled {
		if _, err := s.client(ctx, c.OrgID, q.nok, false); err != nil {
			return q, formatError("TPP-Nok-Redirect-URI must be, or begin with, a redirect URI registered for your organisation",
				"TPP-Nok-Redirect-URI musi być zarejestrowanym adresem przekierowania Twojej organizacji lub się od niego zaczynać")
		}
	}
	return q, nil
}

// setNok records where the browser goes when the customer refuses.
func (s *service) setNok(ctx context.Context, q scaRequest, requestID string) error {
	if q.nok == "" || q.decoupled {
		return nil
	}
	return s.d.OAuth.SetNokRedirect(ctx, requestID, q.nok)
}

// client finds the TPP's client whose registered redirect URI begins
// TPP-Redirect-URI (any client for a decoupled request).
func (s *service) client(ctx context.Context, tppID, redirect string, decoupled bool) (tpp.Client, error) {
	if s.d.Clients == nil {
		return tpp.Client{}, errors.New("berlingroup: no client registry configured")
	}
	clients, err := s.d.Clients.ClientsOf(ctx, tppID)
	if err != nil {
		return tpp.Client{}, err
	}
	for _, cl := range clients {
		if len(cl.RedirectURIs) == 0 {
			continue
		}
		if decoupled && redirect == "" {
			return cl, nil
		}
		for _, reg := range cl.RedirectURIs {
			if strings.HasPrefix(redirect, reg) {
				return cl, nil
			}
		}
	}
	return tpp.Client{}, formatError("TPP-Redirect-URI must be, or begin with, a redirect URI registered for your organisation (developer portal)",
		"TPP-Redirect-URI musi być adresem przekierowania zarejestrowanym dla Twojej organizacji (portal dewelopera) lub się od niego zaczynać")
}

// authorizeRefusal maps the authorization server's refusals: a consent's
// refusal behind it first, then its own (wireErrors).
func authorizeRefusal(err error) error {
	oe := fault.Find(err, "oauth")
	if oe == nil {
		return err
	}
	if c := consent.CodeOf(err); c != "" {
		return consentRefusal(err)
	}
	return domainRefusal(oe, oe.In("en"), oe.In("pl"))
}

func (s *service) saveConsent(ctx context.Context, rec bgConsent) error {
	acc, _ := json.Marshal(rec.Access)
	bal, _ := json.Marshal(nonNil(rec.Balances))
	tx, _ := json.Marshal(nonNil(rec.Transactions))
	_, err := s.d.DB.ExecContext(ctx, `INSERT INTO berlingroup_consents (consent_id, tpp_id, request_id, kind, access,
		balances, transactions, recurring, frequency_per_day, valid_until, sca_approach, created_at, awaiting_start)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		rec.ConsentID, rec.TPPID, rec.RequestID, rec.Kind, string(acc), string(bal), string(tx), rec.Recurring,
		rec.FrequencyPerDay, rec.ValidUntil, rec.SCAApproach, rec.CreatedAt.UnixMicro(), rec.AwaitingStart)
	if err != nil {
		return fmt.Errorf("berlingroup: store consent: %w", err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// loadConsent finds the TPP's Berlin Group consent; another TPP's, or
// one of another dialect, is unknown.
func (s *service) loadConsent(ctx context.Context, tppID, id string) (bgConsent, consent.Consent, error) {
	return s.loadConsentWith(ctx, tppID, id, nil)
}

// loadConsentWith is loadConsent reading also's columns (joined after the
// dialect's record, placeholders from $2) in the same statement.
func (s *service) loadConsentWith(ctx context.Context, tppID, id string, also *consent.Also) (bgConsent, consent.Consent, error) {
	// The consent, its privileges and this dialect's record of it in one
	// statement; a consent of another dialect has no record here.
	var rec bgConsent
	var cid, tpp, reqID, kind, acc, bal, tx, validUntil, approach sql.NullString
	var recurring, awaiting sql.NullBool
	var freq, created sql.NullInt64
	a := &consent.Also{
		Columns: `b.consent_id, b.tpp_id, b.request_id, b.kind, b.access, b.balances, b.transactions,
			b.recurring, b.frequency_per_day, b.valid_until, b.sca_approach, b.created_at, b.awaiting_start`,
		Joins: `LEFT JOIN berlingroup_consents b ON b.consent_id = c.id`,
		Dest:  []any{&cid, &tpp, &reqID, &kind, &acc, &bal, &tx, &recurring, &freq, &validUntil, &approach, &created, &awaiting},
	}
	if also != nil {
		a.Columns += ", " + also.Columns
		a.Joins += " " + also.Joins
		a.Args, a.Dest = also.Args, append(a.Dest, also.Dest...)
	}
	c, err := s.d.Consents.GetAlso(ctx, id, a)
	if err != nil && consent.CodeOf(err) != consent.CodeNotFound {
		return rec, c, fmt.Errorf("berlingroup: read consent: %w", err)
	}
	if err != nil || !cid.Valid || tpp.String != tppID {
		return rec, consent.Consent{}, refuse(http.StatusForbidden, CodeConsentUnknown,
			"no consent "+id+" is known for your organisation: use a consentId this bank gave you",
			"Twoja organizacja nie ma zgody "+id+": użyj consentId nadanego przez bank")
	}
	rec = bgConsent{ConsentID: cid.String, TPPID: tpp.String, RequestID: reqID.String, Kind: kind.String,
		Recurring: recurring.Bool, FrequencyPerDay: int(freq.Int64), ValidUntil: validUntil.String, SCAApproach: approach.String,
		AwaitingStart: awaiting.Bool, CreatedAt: time.UnixMicro(created.Int64).UTC()}
	json.Unmarshal([]byte(acc.String), &rec.Access)
	json.Unmarshal([]byte(bal.String), &rec.Balances)
	json.Unmarshal([]byte(tx.String), &rec.Transactions)
	return rec, c, nil
}

// consentStatus is the standard's consentStatus of a consent.
func consentStatus(c consent.Consent, now time.Time) string {
	switch c.Status {
	case consent.StatusAuthorised:
		if !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt) {
			return "expired"
		}
		return "valid"
	case consent.StatusRejected:
		return "rejected"
	case consent.StatusExpired:
		return "expired"
	case consent.StatusRevokedByPSU:
		return "revokedByPsu"
	case consent.StatusRevokedByTPP:
		return "terminatedByTpp"
	}
	return "received"
}

func (s *service) getConsent(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	rec, cons, err := s.loadConsent(r.Context(), c.OrgID, param(r, "consentId"))
	if err != nil {
		return err
	}
	now := s.now()
	info := ConsentInformation{Access: rec.Access, RecurringIndicator: rec.Recurring, ValidUntil: rec.ValidUntil,
		FrequencyPerDay: cons.FrequencyPerDay, ConsentStatus: consentStatus(cons, now), LastActionDate: ledger.DateOf(rec.CreatedAt)}
	if cons.Status == consent.StatusAuthorised {
		info.ValidUntil = ledger.DateOf(cons.ExpiresAt.Add(-time.Second))
		info.LastActionDate = ledger.DateOf(cons.AuthorisedAt)
		if last, ok := s.d.Consents.LastUsed(r.Context(), cons.ID); ok {
			info.LastActionDate = ledger.DateOf(last)
		}
		if rec.Kind == kindBankOffered {
			// The customer chose: the consent covers these.
			var refs []AccountReference
			for _, a := range cons.Accounts {
				refs = append(refs, AccountReference{IBAN: ibanOf(a)})
			}
			info.Access = AccountAccess{Accounts: refs, Balances: refs, Transactions: refs}
		}
	}
	if info.Access.Accounts == nil && rec.Kind == kindBankOffered {
		info.Access.Accounts = []AccountReference{}
	}
	self := Prefix + "/v1/consents/" + cons.ID
	info.Links = map[string]link{"self": {self}, "status": {self + "/status"}}
	if cons.Status == consent.StatusAuthorised {
		info.Links["account"] = link{Prefix + "/v1/accounts"}
	}
	return writeJSON(w, http.StatusOK, info)
}

func (s *service) getConsentStatus(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	_, cons, err := s.loadConsent(r.Context(), c.OrgID, param(r, "consentId"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"consentStatus": consentStatus(cons, s.now())})
}

func (s *service) deleteConsent(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	_, cons, err := s.loadConsent(r.Context(), c.OrgID, param(r, "consentId"))
	if err != nil {
		return err
	}
	if cons.Status == consent.StatusReceived {
		if _, err := s.d.Consents.Reject(r.Context(), cons.ID, "withdrawn by the TPP before authorisation"); err != nil {
			return consentRefusal(err)
		}
	} else if _, err := s.d.OAuth.RevokeConsent(r.Context(), cons.ID, "tpp", "deleted by the TPP"); err != nil {
		return consentRefusal(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// scaStatus is the standard's scaStatus of the consent's authorisation.
func (s *service) scaStatus(ctx context.Context, rec bgConsent, cons consent.Consent) (string, error) {
	switch cons.Status {
	case consent.StatusAuthorised, consent.StatusRevokedByPSU, consent.StatusRevokedByTPP:
		if !cons.AuthorisedAt.IsZero() {
			return "finalised", nil
		}
	case consent.StatusRejected:
		return "failed", nil
	}
	p, err := s.d.OAuth.Request(ctx, rec.RequestID)
	if err != nil {
		return "", err
	}
	switch {
	case p.Decision == "approved":
		return "finalised", nil
	case p.Decision == "rejected", p.Expired:
		return "failed", nil
	}
	if rec.SCAApproach == "DECOUPLED" {
		return "started", nil
	}
	return "received", nil
}

func (s *service) getConsentScaStatus(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	rec, cons, err := s.loadConsent(r.Context(), c.OrgID, param(r, "consentId"))
	if err != nil {
		return err
	}
	if param(r, "authorisationId") != rec.RequestID || rec.AwaitingStart {
		return refuse(http.StatusForbidden, CodeResourceUnknown, "no such authorisation of this consent: use the one in _links.scaStatus",
			"ta zgoda nie ma takiej autoryzacji: użyj tej z _links.scaStatus")
	}
	st, err := s.scaStatus(r.Context(), rec, cons)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"scaStatus": st})
}

func (s *service) getConsentAuthorisations(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	rec, _, err := s.loadConsent(r.Context(), c.OrgID, param(r, "consentId"))
	if err != nil {
		return err
	}
	ids := []string{rec.RequestID}
	if rec.AwaitingStart {
		ids = []string{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"authorisationIds": ids})
}

// startConsentAuthorisation: the authorisation starts with the consent
// (implicitly), or here when the TPP asked to start it explicitly; a
// start of an open one answers with it.
func (s *service) startConsentAuthorisation(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	if len(strings.TrimSpace(string(c.Body))) > 2 {
		return embeddedRefused(w, r, c)
	}
	rec, cons, err := s.loadConsent(r.Context(), c.OrgID, param(r, "consentId"))
	if err != nil {
		return err
	}
	if rec.AwaitingStart {
		if err := s.startAwaited(r.Context(), "berlingroup_consents", rec.ConsentID, rec.RequestID, rec.SCAApproach); err != nil {
			return err
		}
		rec.AwaitingStart = false
	}
	st, err := s.scaStatus(r.Context(), rec, cons)
	if err != nil {
		return err
	}
	if st == "finalised" || st == "failed" {
		return refuse(http.StatusConflict, CodeStatusInvalid, "the consent's authorisation is "+st+": ask for a new consent",
			"autoryzacja zgody ma status "+st+": poproś o nową zgodę")
	}
	p, err := s.d.OAuth.Request(r.Context(), rec.RequestID)
	if err != nil {
		return err
	}
	self := Prefix + "/v1/consents/" + cons.ID + "/authorisations/" + rec.RequestID
	links := map[string]link{"scaStatus": {self}}
	if rec.SCAApproach == "REDIRECT" {
		links["scaRedirect"] = link{s.d.OAuth.PageURL(p.RequestID)}
	}
	w.Header().Set("ASPSP-SCA-Approach", rec.SCAApproach)
	return writeJSON(w, http.StatusCreated, map[string]any{"scaStatus": st, "authorisationId": rec.RequestID, "_links": links})
}
