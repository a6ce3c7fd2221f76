package bank

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/psd2bank/psd2bank/"

// The direction of dependencies that docs/architecture.md describes: the
// domain and the foundations know nothing of the edges or the assembly;
// the gateway knows dialects only through its Wire interface; only the
// assembly (and cmd) imports the bank.
func TestDependenciesPointDown(t *testing.T) {
	t.Parallel()
	edges := []string{"internal/gateway", "internal/api", "internal/web", "internal/webguard", "internal/dialect/", "internal/server",
		"internal/bank", "internal/sandbox", "internal/tppclient"}
	forbidden := map[string][]string{}
	for _, domain := range []string{"internal/money", "internal/polish", "internal/clock", "internal/store", "internal/eidas",
		"internal/jws", "internal/ledger", "internal/consent", "internal/sca", "internal/access", "internal/payment",
		"internal/tpp", "internal/oauth", "internal/lockout", "internal/pis", "internal/callback", "internal/wire/strictjson",
		"internal/fault", "internal/ais"} {
		forbidden[domain] = edges
	}
	forbidden["internal/gateway"] = []string{"internal/dialect/", "internal/api", "internal/web", "internal/bank", "internal/sandbox"}
	forbidden["internal/dialect/"] = []string{"internal/api", "internal/web", "internal/bank", "internal/sandbox"}
	forbidden["internal/api"] = []string{"internal/web", "internal/bank", "internal/sandbox"}
	// Each dialect in its own home: what PolishAPI and mBank share
	// (dialect/common) knows neither; PolishAPI and Berlin Group know no
	// other dialect (mBank reuses PolishAPI's wire types, which its
	// specification takes from PolishAPI).
	forbidden["internal/dialect/common"] = []string{"internal/dialect/polishapi", "internal/dialect/mbank", "internal/dialect/berlingroup"}
	forbidden["internal/dialect/polishapi"] = []string{"internal/dialect/mbank", "internal/dialect/berlingroup"}
	forbidden["internal/dialect/berlingroup"] = []string{"internal/dialect/polishapi", "internal/dialect/mbank", "internal/dialect/common"}
	forbidden["internal/dialect/mbank"] = []string{"internal/dialect/berlingroup"}
	forbidden["internal/web"] = []string{"internal/api", "internal/gateway", "internal/dialect/", "internal/bank", "internal/sandbox"}

	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for prefix, bans := range forbidden {
			if pkg != prefix && !strings.HasPrefix(pkg, strings.TrimSuffix(prefix, "/")+"/") && !(strings.HasSuffix(prefix, "/") && strings.HasPrefix(pkg, prefix)) {
				continue
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				p, ok := strings.CutPrefix(p, module)
				if !ok {
					continue
				}
				for _, ban := range bans {
					if p == strings.TrimSuffix(ban, "/") || strings.HasPrefix(p, strings.TrimSuffix(ban, "/")+"/") {
						if strings.HasPrefix(p, pkg+"/") || p == pkg {
							continue // its own subpackages
						}
						t.Errorf("%s imports %s: the dependency points up (docs/architecture.md)", filepath.Base(path)+" in "+pkg, p)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d files checked: is the walk looking at the repository?", checked)
	}
}
