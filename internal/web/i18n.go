package web

import (
	"net/http"
	"strings"
)

// Languages of the pages; the first is the default.
var languages = []string{"en", "pl"}

// langCookie remembers a language chosen with ?lang=.
const langCookie = "psd2bank_lang"

// language picks the page language: ?lang= (remembered in a cookie), then the
// cookie, then Accept-Language, then English.
func language(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); isLanguage(l) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secureRequest(r)})
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && isLanguage(c.Value) {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if isLanguage(primary) {
			return primary
		}
	}
	return languages[0]
}

func isLanguage(l string) bool {
	for _, x := range languages {
		if l == x {
			return true
		}
	}
	return false
}

// translate returns the text of key in lang, falling back to English and
// then to the key itself.
func translate(lang, key string) string {
	if s, ok := messages[lang][key]; ok {
		return s
	}
	if s, ok := messages["en"][key]; ok {
		return s
	}
	return key
}

// messages holds the texts of the pages by language and key.
var messages = map[string]map[string]string{
	"en": {
		"sandbox":         "sandbox",
		"area.developer":  "developer portal",
		"area.backoffice": "back office",
		"login":           "Log in",
		"logout":          "Log out",
		"back":            "Back",
		"yes":             "yes",
		"no":              "no",
		"status":          "Status",
		"reason":          "Reason",
		"environment":     "Environment",
		"documents":       "Documents",
		"certificates":    "Certificates",
		"submitted_at":    "Submitted",

		"field.org_id":        "Organisation identifier (from your certificates)",
		"field.firm_name":     "Firm name",
		"field.email":         "Contact email",
		"field.password":      "Password (at least 10 characters)",
		"field.secret":        "Password",
		"field.login":         "Login",
		"field.redirect_uris": "Redirect URIs of the production client (one per line)",

		"status.draft":     "draft",
		"status.submitted": "submitted",
		"status.approved":  "approved",
		"status.rejected":  "rejected",
		"status.active":    "active",
		"status.suspended": "suspended",

		"kind.register_extract":  "Register extract (KRS / KNF register)",
		"kind.licence":           "Licence (KNF decision)",
		"kind.power_of_attorney": "Power of attorney",
		"kind.other":             "Other document",

		"dev.title":            "TPP developer portal",
		"dev.intro":            "Apply for production access to the PSD2 API: open an account, upload your firm's documents and its qualified certificates (QWAC and QSealC), and submit the application for review by the bank.",
		"dev.sandbox.title":    "Sandbox access is immediate",
		"dev.sandbox.text":     "The sandbox needs no application: issue test certificates and register your TPP in one step, then use the client_id from client.json.",
		"dev.sandbox.short":    "This application is for production access; sandbox access is immediate with",
		"dev.signup":           "Open an account",
		"dev.signup.button":    "Create account and application",
		"dev.application":      "Application",
		"dev.status.draft":     "Upload the documents and both certificates, then submit the application.",
		"dev.status.submitted": "The bank is reviewing your application.",
		"dev.status.rejected":  "The bank rejected the application. Correct it and submit it again.",
		"dev.status.approved":  "Production access is granted. Use this client_id with your qualified certificates.",
		"dev.submit.title":     "Submit for review",
		"dev.submit.needs":     "Required: a register extract, a licence, the QWAC and the QSealC; a power of attorney if you tick the box above.",
		"dev.submit.button":    "Submit application",
		"dev.poa":              "I act on behalf of the firm under a power of attorney",
		"dev.uploaded":         "The document was uploaded.",
		"dev.cert_uploaded":    "The certificate was uploaded.",
		"dev.submitted":        "The application was submitted.",

		"doc.kind":     "Kind",
		"doc.file":     "File",
		"doc.type":     "Type",
		"doc.size":     "Size",
		"doc.uploaded": "Uploaded",
		"doc.none":     "No documents yet.",
		"doc.rules":    "PDF, PNG or JPEG, at most 5 MiB",
		"doc.upload":   "Upload document",
		"doc.missing":  "Choose a file to upload.",
		"doc.too_big":  "The file is larger than 5 MiB: send a smaller scan.",

		"cert.kind":          "Kind",
		"cert.roles":         "Roles",
		"cert.validity":      "Valid",
		"cert.issuer":        "Issuer",
		"cert.quality":       "Qualification",
		"cert.sandbox":       "sandbox (not qualified)",
		"cert.qualified":     "qualified",
		"cert.not_qualified": "not declared qualified",
		"cert.none":          "No certificates yet.",
		"cert.file":          "QWAC or QSealC in PEM",
		"cert.paste":         "or paste the PEM text",
		"cert.upload":        "Upload certificate",
		"cert.missing":       "Choose a PEM file or paste the certificate.",

		"bo.title":               "Back office",
		"bo.applications":        "Applications",
		"bo.application":         "Application",
		"bo.tpps":                "TPPs",
		"bo.audit":               "Audit log",
		"bo.no_applications":     "No applications.",
		"bo.no_tpps":             "No TPPs.",
		"bo.poa":                 "Acts under a power of attorney",
		"bo.reviewed_by":         "Reviewed by",
		"bo.register":            "Register of payment institutions",
		"bo.register.authorised": "authorised",
		"bo.register.withdrawn":  "authorisation withdrawn",
		"bo.register.services":   "Services",
		"bo.register.absent":     "Not in the register.",
		"bo.decision":            "Decision",
		"bo.approve":             "Approve",
		"bo.approve.text":        "Approval creates the production TPP and a client. It is refused unless the certificates are qualified and the register authorises the organisation for their roles.",
		"bo.reject":              "Reject",
		"bo.approved":            "The application was approved.",
		"bo.rejected":            "The application was rejected.",
		"bo.suspend":             "Suspend",
		"bo.reinstate":           "Reinstate",
		"bo.suspended":           "The TPP was suspended.",
		"bo.reinstated":          "The TPP was reinstated.",
		"bo.action":              "Action",
		"bo.forbidden":           "Your account has no back-office role.",
		"filter.submitted":       "submitted",
		"filter.all":             "all",
		"filter.approved":        "approved",
		"filter.rejected":        "rejected",
		"filter.draft":           "drafts",
		"audit.at":               "Time",
		"audit.actor":            "Who",
		"audit.action":           "Action",
		"audit.subject":          "Subject",
		"audit.detail":           "Detail",
		"error.csrf":             "Request refused: it came from another site (cross-origin). Use the form on this site.",
		"error.not_found":        "Not found.",
		"error.bad_form":         "The form could not be read.",
		"error.internal":         "An internal error occurred; please try again later.",
		"title.not_found":        "Not found",
		"title.forbidden":        "Forbidden",
		"title.error":            "Error",
	},
	"pl": {
		"sandbox":         "sandbox",
		"area.developer":  "portal dla deweloperów",
		"area.backoffice": "back office",
		"login":           "Zaloguj się",
		"logout":          "Wyloguj",
		"back":            "Wróć",
		"yes":             "tak",
		"no":              "nie",
		"status":          "Status",
		"reason":          "Powód",
		"environment":     "Środowisko",
		"documents":       "Dokumenty",
		"certificates":    "Certyfikaty",
		"submitted_at":    "Złożony",

		"field.org_id":        "Identyfikator organizacji (z certyfikatów)",
		"field.firm_name":     "Nazwa firmy",
		"field.email":         "E-mail kontaktowy",
		"field.password":      "Hasło (co najmniej 10 znaków)",
		"field.secret":        "Hasło",
		"field.login":         "Login",
		"field.redirect_uris": "Adresy przekierowania klienta produkcyjnego (jeden w wierszu)",

		"status.draft":     "szkic",
		"status.submitted": "złożony",
		"status.approved":  "zatwierdzony",
		"status.rejected":  "odrzucony",
		"status.active":    "aktywny",
		"status.suspended": "zawieszony",

		"kind.register_extract":  "Odpis z rejestru (KRS / rejestr KNF)",
		"kind.licence":           "Zezwolenie (decyzja KNF)",
		"kind.power_of_attorney": "Pełnomocnictwo",
		"kind.other":             "Inny dokument",

		"dev.title":            "Portal dla deweloperów TPP",
		"dev.intro":            "Złóż wniosek o dostęp produkcyjny do API PSD2: załóż konto, dodaj dokumenty firmy i jej certyfikaty kwalifikowane (QWAC i QSealC) i złóż wniosek do rozpatrzenia przez bank.",
		"dev.sandbox.title":    "Dostęp do sandboksa jest natychmiastowy",
		"dev.sandbox.text":     "Sandbox nie wymaga wniosku: wystaw certyfikaty testowe i zarejestruj TPP jednym poleceniem, a potem użyj client_id z pliku client.json.",
		"dev.sandbox.short":    "Ten wniosek dotyczy dostępu produkcyjnego; dostęp do sandboksa jest natychmiastowy dzięki",
		"dev.signup":           "Załóż konto",
		"dev.signup.button":    "Utwórz konto i wniosek",
		"dev.application":      "Wniosek",
		"dev.status.draft":     "Dodaj dokumenty i oba certyfikaty, a następnie złóż wniosek.",
		"dev.status.submitted": "Bank rozpatruje Twój wniosek.",
		"dev.status.rejected":  "Bank odrzucił wniosek. Popraw go i złóż ponownie.",
		"dev.status.approved":  "Dostęp produkcyjny został przyznany. Używaj tego client_id z certyfikatami kwalifikowanymi.",
		"dev.submit.title":     "Złóż do rozpatrzenia",
		"dev.submit.needs":     "Wymagane: odpis z rejestru, zezwolenie, QWAC i QSealC; pełnomocnictwo, jeśli zaznaczysz pole powyżej.",
		"dev.submit.button":    "Złóż wniosek",
		"dev.poa":              "Działam w imieniu firmy na podstawie pełnomocnictwa",
		"dev.uploaded":         "Dokument został dodany.",
		"dev.cert_uploaded":    "Certyfikat został dodany.",
		"dev.submitted":        "Wniosek został złożony.",

		"doc.kind":     "Rodzaj",
		"doc.file":     "Plik",
		"doc.type":     "Typ",
		"doc.size":     "Rozmiar",
		"doc.uploaded": "Dodano",
		"doc.none":     "Brak dokumentów.",
		"doc.rules":    "PDF, PNG lub JPEG, najwyżej 5 MiB",
		"doc.upload":   "Dodaj dokument",
		"doc.missing":  "Wybierz plik do wysłania.",
		"doc.too_big":  "Plik jest większy niż 5 MiB: wyślij mniejszy skan.",

		"cert.kind":          "Rodzaj",
		"cert.roles":         "Role",
		"cert.validity":      "Ważny",
		"cert.issuer":        "Wystawca",
		"cert.quality":       "Kwalifikacja",
		"cert.sandbox":       "sandboksowy (niekwalifikowany)",
		"cert.qualified":     "kwalifikowany",
		"cert.not_qualified": "nieoznaczony jako kwalifikowany",
		"cert.none":          "Brak certyfikatów.",
		"cert.file":          "QWAC lub QSealC w formacie PEM",
		"cert.paste":         "lub wklej tekst PEM",
		"cert.upload":        "Dodaj certyfikat",
		"cert.missing":       "Wybierz plik PEM lub wklej certyfikat.",

		"bo.title":               "Back office",
		"bo.applications":        "Wnioski",
		"bo.application":         "Wniosek",
		"bo.tpps":                "TPP",
		"bo.audit":               "Dziennik zdarzeń",
		"bo.no_applications":     "Brak wniosków.",
		"bo.no_tpps":             "Brak TPP.",
		"bo.poa":                 "Działa na podstawie pełnomocnictwa",
		"bo.reviewed_by":         "Rozpatrzył",
		"bo.register":            "Rejestr instytucji płatniczych",
		"bo.register.authorised": "zezwolenie aktywne",
		"bo.register.withdrawn":  "zezwolenie cofnięte",
		"bo.register.services":   "Usługi",
		"bo.register.absent":     "Brak w rejestrze.",
		"bo.decision":            "Decyzja",
		"bo.approve":             "Zatwierdź",
		"bo.approve.text":        "Zatwierdzenie tworzy produkcyjnego TPP i klienta. Zostanie odmówione, jeśli certyfikaty nie są kwalifikowane lub rejestr nie daje organizacji zezwolenia na ich role.",
		"bo.reject":              "Odrzuć",
		"bo.approved":            "Wniosek został zatwierdzony.",
		"bo.rejected":            "Wniosek został odrzucony.",
		"bo.suspend":             "Zawieś",
		"bo.reinstate":           "Przywróć",
		"bo.suspended":           "TPP został zawieszony.",
		"bo.reinstated":          "TPP został przywrócony.",
		"bo.action":              "Działanie",
		"bo.forbidden":           "Twoje konto nie ma roli back office.",
		"filter.submitted":       "złożone",
		"filter.all":             "wszystkie",
		"filter.approved":        "zatwierdzone",
		"filter.rejected":        "odrzucone",
		"filter.draft":           "szkice",
		"audit.at":               "Czas",
		"audit.actor":            "Kto",
		"audit.action":           "Działanie",
		"audit.subject":          "Dotyczy",
		"audit.detail":           "Szczegóły",
		"error.csrf":             "Żądanie odrzucone: pochodzi z innej witryny (cross-origin). Użyj formularza na tej stronie.",
		"error.not_found":        "Nie znaleziono.",
		"error.bad_form":         "Nie udało się odczytać formularza.",
		"error.internal":         "Wystąpił błąd wewnętrzny; spróbuj ponownie później.",
		"title.not_found":        "Nie znaleziono",
		"title.forbidden":        "Brak dostępu",
		"title.error":            "Błąd",
	},
}
