package gateway_test

import (
	"crypto"
	"strings"
	"testing"

	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// A QWAC the gateway has verified and cached is refused on the very next
// request after its revocation, not a cache lifetime later; so is a QSealC.
func TestRevocationTakesEffectOnNextRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBank(t, db, gateway.Sandbox)
		a := newTPP(t, b.qtsp, orgA, all)
		for i := 0; i < 2; i++ { // twice: the second answer comes from the cache
			if ans := b.do(t, a, b.polishAPI(t, a, "getAccounts", "", nil)); ans.status != 200 {
				t.Fatalf("before revocation: %d %s", ans.status, ans.body)
			}
		}
		if err := b.qtsp.Revoke(a.qwac.Leaf.SerialNumber, now); err != nil {
			t.Fatal(err)
		}
		ans := b.do(t, a, b.polishAPI(t, a, "getAccounts", "", nil))
		if ans.status != 401 || ans.code != string(gateway.CodeCertificateRevoked) {
			t.Fatalf("the next request after revoking the QWAC: %d %s", ans.status, ans.body)
		}

		pair, sealCert := issue(t, b.qtsp, eidas.IssueRequest{OrgID: orgA, Roles: all, Kind: eidas.KindQSealC})
		signer, err := jws.NewSigner(pair.PrivateKey.(crypto.Signer), sealCert, jws.SignerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := tpp{qwac: qwac(t, b.qtsp, orgA, all), signer: signer}
		if ans := b.do(t, s, b.polishAPI(t, s, "getAccounts", "", nil)); ans.status != 200 {
			t.Fatalf("a fresh TPP before revocation: %d %s", ans.status, ans.body)
		}
		if err := b.qtsp.Revoke(sealCert.SerialNumber, now); err != nil {
			t.Fatal(err)
		}
		if ans := b.do(t, s, b.polishAPI(t, s, "getAccounts", "", nil)); ans.status != 401 || !strings.Contains(ans.msg, "revoked") {
			t.Fatalf("the next request after revoking the QSealC: %d %s", ans.status, ans.body)
		}
	})
}
