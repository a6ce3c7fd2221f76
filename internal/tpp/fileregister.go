package tpp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/eidas"
)

// SandboxRegisterFile is the name of the sandbox's copy of the register,
// in the sandbox directory (DataDir/sandbox/).
const SandboxRegisterFile = "tpp-register.json"

// reloadEvery is how often at most a FileRegister looks at its file.
const reloadEvery = time.Second

// FileRegister is a register read from a file and read again whenever the
// file changes (a new modification time, size or inode), checked at most
// once per second, so that another process (`psd2bank certs issue
// --register`) can add an organisation to a running sandbox. When a new
// version cannot be read, the last good one stays in use and Err tells why.
// It is safe for concurrent use.
type FileRegister struct {
	path  string
	clock clock.Clock

	current atomic.Pointer[Register]
	// checkedAt is when the file was last looked at (Unix nanoseconds of
	// the clock), read without the lock on the lookup path.
	checkedAt atomic.Int64

	mu   sync.Mutex // guards the fields below and serialises reloads
	info fs.FileInfo
	err  error
}

// OpenFileRegister loads the register at path. c paces the checks for
// changes (nil: the system clock).
func OpenFileRegister(path string, c clock.Clock) (*FileRegister, error) {
	if c == nil {
		c = clock.System{}
	}
	f := &FileRegister{path: path, clock: c}
	if err := f.load(); err != nil {
		return nil, err
	}
	f.checkedAt.Store(c.Now().UnixNano())
	return f, nil
}

// Path is the file the register is read from.
func (f *FileRegister) Path() string { return f.path }

// Lookup finds an organisation in the newest readable version of the file.
func (f *FileRegister) Lookup(orgID string) (Entry, bool) {
	f.refresh()
	return f.current.Load().Lookup(orgID)
}

// Register returns the newest readable version of the file.
func (f *FileRegister) Register() *Register {
	f.refresh()
	return f.current.Load()
}

// Err is the error of the last attempt to read a changed file, or nil.
func (f *FileRegister) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Reload reads the file now if it changed.
func (f *FileRegister) Reload() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkedAt.Store(f.clock.Now().UnixNano())
	return f.reloadIfChanged()
}

// refresh reloads the file if a check is due and it changed. A clock moved
// backwards makes a check due at once.
func (f *FileRegister) refresh() {
	due := func(now int64) bool {
		d := time.Duration(now - f.checkedAt.Load())
		return d < 0 || d >= reloadEvery
	}
	if !due(f.clock.Now().UnixNano()) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clock.Now().UnixNano()
	if !due(now) { // another goroutine checked meanwhile
		return
	}
	f.checkedAt.Store(now)
	f.reloadIfChanged()
}

// reloadIfChanged runs with mu held.
func (f *FileRegister) reloadIfChanged() error {
	fi, err := os.Stat(f.path)
	if err != nil {
		f.err = fmt.Errorf("register %s: %w", f.path, err)
		return f.err
	}
	if f.info != nil && os.SameFile(fi, f.info) && fi.ModTime().Equal(f.info.ModTime()) && fi.Size() == f.info.Size() {
		return nil
	}
	if err := f.load(); err != nil {
		f.err = err
		return err
	}
	f.err = nil
	return nil
}

// load reads and parses the file; it runs with mu held (or before the
// register is shared).
func (f *FileRegister) load() error {
	fi, err := os.Stat(f.path)
	if err != nil {
		return fmt.Errorf("register %s: %w", f.path, err)
	}
	g, err := LoadRegister(f.path)
	if err != nil {
		return err
	}
	f.current.Store(g)
	f.info = fi
	return nil
}

// EntryInput describes an organisation to put into a register file.
type EntryInput struct {
	OrgID        string    // the certificates' organizationIdentifier
	Name         string    // the organisation's name
	Roles        []string  // PSD2 roles it is licensed for in Poland: PSP_AI, PSP_PI, PSP_IC
	AuthorisedOn time.Time // the date of the authorisation
	// Withdrawn, when set, records the authorisation as withdrawn on that
	// date (for negative tests).
	Withdrawn time.Time
}

// registerFileMu serialises writers of register files in this process;
// writers in other processes are serialised only by the atomic rename (the
// last writer wins).
var registerFileMu sync.Mutex

// AddToRegisterFile adds the organisation to the register file at path, or
// replaces its entity if the file has one (matched by normalized
// organisation id), keeping every other entity as it is. The file is
// written to a temporary file in the same directory and renamed into place,
// so that readers never see half a file. A missing file is created.
func AddToRegisterFile(path string, in EntryInput) error {
	ent, err := in.entity()
	if err != nil {
		return err
	}
	key := LookupKey(in.OrgID)
	registerFileMu.Lock()
	defer registerFileMu.Unlock()

	var objs []json.RawMessage
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read register: %w", err)
	default:
		if objs, err = entityObjects(b); err != nil {
			return fmt.Errorf("register %s: %w", path, err)
		}
	}
	replaced := false
	for i, raw := range objs {
		var e ebaEntity
		if json.Unmarshal(raw, &e) != nil {
			continue
		}
		if _, k, ok := e.entry(); ok && k == key {
			if !replaced {
				objs[i] = ent
				replaced = true
			} else {
				objs[i] = nil // a duplicate: drop it
			}
		}
	}
	objs = slices.DeleteFunc(objs, func(m json.RawMessage) bool { return m == nil })
	if !replaced {
		objs = append(objs, ent)
	}
	return writeRegister(path, objs)
}

// formatRegister renders entities as the EBA file does: an array holding
// one array of entities, indented.
func formatRegister(ents []json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("[\n  [")
	for i, raw := range ents {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		if err := json.Indent(&buf, raw, "    ", "  "); err != nil {
			return nil, fmt.Errorf("register entity: %w", err)
		}
	}
	buf.WriteString("\n  ]\n]\n")
	return buf.Bytes(), nil
}

// writeRegister writes the entities to path atomically (temporary file and
// rename).
func writeRegister(path string, ents []json.RawMessage) error {
	content, err := formatRegister(ents)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tpp-register-*.json")
	if err != nil {
		return fmt.Errorf("write register: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return fmt.Errorf("write register: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write register: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write register: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write register: %w", err)
	}
	return nil
}

// entity renders the input as an EBA entity.
func (in EntryInput) entity() (json.RawMessage, error) {
	o, err := eidas.ParseOrganizationID(strings.TrimSpace(in.OrgID))
	if err != nil {
		return nil, newError(CodeInvalid, "%q is not a PSD2 organisation identifier", "%q nie jest identyfikatorem organizacji PSD2", in.OrgID)
	}
	if strings.TrimSpace(in.Name) == "" {
		return nil, newError(CodeInvalid, "the organisation's name is missing", "brak nazwy organizacji")
	}
	if in.AuthorisedOn.IsZero() {
		return nil, newError(CodeInvalid, "the authorisation date is missing", "brak daty zezwolenia")
	}
	var services []string
	entityType := "PSD_AISP"
	for _, r := range in.Roles {
		role, err := eidas.ParseRole(r)
		if err != nil {
			return nil, newError(CodeInvalid, "%q is not a PSD2 role", "%q nie jest rolą PSD2", r)
		}
		svc, ok := RoleService[string(role)]
		if !ok {
			return nil, newError(CodeInvalid, "the role %s is not licensed through the register of payment institutions", "rola %s nie podlega rejestrowi instytucji płatniczych", role)
		}
		if !slices.Contains(services, svc) {
			services = append(services, svc)
		}
		if role != eidas.RolePSPAI {
			entityType = "PSD_PI" // an AISP is only registered; anything more needs a licence
		}
	}
	if len(services) == 0 {
		return nil, newError(CodeInvalid, "at least one role is needed", "potrzebna jest co najmniej jedna rola")
	}
	slices.Sort(services)
	dates := []string{in.AuthorisedOn.Format(time.DateOnly)}
	if !in.Withdrawn.IsZero() {
		dates = append(dates, in.Withdrawn.Format(time.DateOnly))
	}
	owner := o.Country + "_" + o.NCA
	ent := map[string]any{
		"CA_OwnerID": owner,
		"EntityCode": entityType + "!" + owner + "!" + o.Number,
		"EntityType": entityType,
		"Properties": []map[string]any{
			{"ENT_NAT_REF_COD": o.Number},
			{"ENT_NAM": strings.TrimSpace(in.Name)},
			{"ENT_COU_RES": o.Country},
			{"ENT_AUT": dates},
		},
		"Services":            []map[string]any{{HostCountry: services}},
		"__EBA_EntityVersion": "psd2bank-sandbox",
	}
	return json.Marshal(ent)
}

// Organisations of the sandbox register that no TPP may use fully: the
// fixed negatives of SandboxRegisterSeed.
const (
	// SandboxWithdrawnOrgID had a licence for AIS and PIS, withdrawn on
	// 2024-06-30.
	SandboxWithdrawnOrgID = "PSDPL-KNF-9000000001"
	// SandboxPISOnlyOrgID is a payment institution licensed for PIS only.
	SandboxPISOnlyOrgID = "PSDPL-KNF-9000000002"
	// SandboxAISOnlyOrgID is an account information service provider
	// (registered for AIS only).
	SandboxAISOnlyOrgID = "PSDPL-KNF-9000000003"
)

// SandboxRegisterSeed returns the initial content of the sandbox's register
// file: three synthetic entities to test refusals with (a withdrawn
// licence, a PIS-only payment institution, an AIS-only AISP). The sandbox
// bootstrap adds the demo TPP with AddToRegisterFile, and `psd2bank certs
// issue --register` adds more.
func SandboxRegisterSeed() []byte {
	seed := []EntryInput{
		{OrgID: SandboxWithdrawnOrgID, Name: "Withdrawn Payments sp. z o.o.", Roles: []string{"PSP_AI", "PSP_PI"},
			AuthorisedOn: time.Date(2019, 9, 14, 0, 0, 0, 0, time.UTC), Withdrawn: time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC)},
		{OrgID: SandboxPISOnlyOrgID, Name: "Only Payments S.A.", Roles: []string{"PSP_PI"},
			AuthorisedOn: time.Date(2020, 3, 2, 0, 0, 0, 0, time.UTC)},
		{OrgID: SandboxAISOnlyOrgID, Name: "Only Accounts sp. z o.o.", Roles: []string{"PSP_AI"},
			AuthorisedOn: time.Date(2021, 5, 17, 0, 0, 0, 0, time.UTC)},
	}
	var ents []json.RawMessage
	for _, in := range seed {
		e, err := in.entity()
		if err != nil {
			panic(err) // the seed is fixed
		}
		ents = append(ents, e)
	}
	b, err := formatRegister(ents)
	if err != nil {
		panic(err)
	}
	return b
}

// EnsureRegisterFile writes SandboxRegisterSeed to path unless a file is
// already there.
func EnsureRegisterFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	objs, err := entityObjects(SandboxRegisterSeed())
	if err != nil {
		return err
	}
	return writeRegister(path, objs)
}
